import { countryCodes, countryName } from '../../domain/countries.js';
import type { HttpRoute } from '../http/routes.js';
import { CatalogueError, PROFILE_FIELDS, type CustomerOut, type ProfilePatch } from './customer-catalogue.js';
import { html, type Html } from './html.js';
import { checkFormToken, isSameOriginPost, readForm } from './security.js';
import { notice, redirect, sendPage, withSession, type PortalPage } from './session.js';

/**
 * The customer's details: name and tax id as the seller keeps them, and a form to correct the
 * billing email and address. The form writes through update_customer, so the change is
 * validated like any other and lands in the activity log as the portal's (door portal). A
 * refused value is shown next to its field with what would work, and everything typed is kept.
 */

type Field = (typeof PROFILE_FIELDS)[number];

const FIELDS: ReadonlyArray<{
  name: Field;
  label: string;
  autocomplete: string;
  type?: string;
  help?: string;
}> = [
  {
    name: 'email',
    label: 'Billing email',
    autocomplete: 'email',
    type: 'email',
    help: 'Invoices and receipts are sent here.',
  },
  { name: 'address_line1', label: 'Address', autocomplete: 'address-line1' },
  { name: 'address_line2', label: 'Address, second line', autocomplete: 'address-line2' },
  { name: 'zipcode', label: 'Postal code', autocomplete: 'postal-code' },
  { name: 'city', label: 'City', autocomplete: 'address-level2' },
  { name: 'state', label: 'State or region', autocomplete: 'address-level1' },
  { name: 'country', label: 'Country', autocomplete: 'country' },
];

const COUNTRIES = countryCodes()
  .map((code) => ({ code, name: countryName(code) ?? code }))
  .sort((a, b) => a.name.localeCompare(b.name, 'en'));

type Values = Record<Field, string>;

function valuesOf(c: CustomerOut): Values {
  return Object.fromEntries(PROFILE_FIELDS.map((f) => [f, c[f] ?? ''])) as Values;
}

function input(f: (typeof FIELDS)[number], value: string, error: string | undefined): Html {
  const id = `f-${f.name}`;
  const described = [f.help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const aria = html`${described ? html` aria-describedby="${described}"` : ''}${error ? html` aria-invalid="true"` : ''}`;
  const control =
    f.name === 'country'
      ? html`<select id="${id}" name="country" autocomplete="country" ${aria}>
          <option value="">Not given</option>
          ${COUNTRIES.map(
            (c) =>
              html`<option value="${c.code}" ${c.code === value.toUpperCase() ? html` selected` : ''}>
                ${c.name}
              </option>`,
          )}
        </select>`
      : html`<input
          id="${id}"
          name="${f.name}"
          type="${f.type ?? 'text'}"
          autocomplete="${f.autocomplete}"
          value="${value}"
          ${f.name === 'email' ? html` required` : ''}${aria}
        />`;
  return html`<div class="field">
    <label for="${id}">${f.label}</label>${control}
    ${f.help ? html`<p class="help" id="${id}-help">${f.help}</p>` : ''}${error ? html`<p class="error" id="${id}-error">${error}</p>` : ''}
  </div>`;
}

function profilePage(
  p: PortalPage,
  values: Values,
  errors: Partial<Record<Field, string>>,
  saved: boolean,
): Html {
  const c = p.customer;
  const problems = Object.keys(errors).length;
  return html`<h1>Profile</h1>
    ${saved ? html`<div class="notice good" role="status"><p>Your details are saved.</p></div>` : ''}
    ${problems ? html`<div class="notice bad" role="alert"><p>${problems === 1 ? 'One field needs' : `${problems} fields need`} correcting; nothing was saved.</p></div>` : ''}
    <dl class="facts">
      <dt>Name</dt>
      <dd>${c.display_name}</dd>
      ${
        c.legal_name && c.legal_name !== c.display_name
          ? html`<dt>Legal name</dt>
              <dd>${c.legal_name}</dd>`
          : ''
      }
      <dt>Tax id</dt>
      <dd>${c.tax_identification_number ?? 'Not given'}</dd>
    </dl>
    <p class="muted">
      To change your name or tax id, contact
      ${p.organization.name}${p.organization.email ? html` at <a href="mailto:${p.organization.email}">${p.organization.email}</a>` : ''}.
    </p>
    <h2>Billing email and address</h2>
    <form class="profile" method="post" action="/portal/profile" novalidate>
      <input type="hidden" name="form_token" value="${p.signedIn.formToken}" />
      ${FIELDS.map((f) => input(f, values[f.name], errors[f.name]))}
      <button type="submit">Save</button>
    </form>`;
}

/** The catalogue's message with the form's label in place of the field's name. */
function fieldMessage(label: string, field: string, message: string): string {
  const text = message.startsWith(field) ? `${label}${message.slice(field.length)}` : message;
  return text.replace(/ \(got .*\)$/, '');
}

async function showProfile(p: PortalPage): Promise<number> {
  const saved = new URL(p.req.url ?? '/', 'http://portal').searchParams.get('saved') === '1';
  return sendPage(p, 200, 'Profile', profilePage(p, valuesOf(p.customer), {}, saved));
}

async function saveProfile(p: PortalPage): Promise<number> {
  const form = await readForm(p.req);
  if (!form || !isSameOriginPost(p.req) || !checkFormToken(p.cookie, form.get('form_token')))
    return notice(p.rt, p.res, 'form_expired', { brand: p.brand, signedIn: p.signedIn });
  const values = Object.fromEntries(PROFILE_FIELDS.map((f) => [f, (form.get(f) ?? '').trim()])) as Values;
  const errors: Partial<Record<Field, string>> = {};
  if (!values.email) errors.email = 'Billing email is required, so that invoices reach you.';
  if (!errors.email) {
    const patch: ProfilePatch = {};
    for (const f of PROFILE_FIELDS) patch[f] = values[f] === '' ? null : values[f];
    try {
      await p.catalogue.updateProfile(patch);
      return redirect(p.rt, p.res, '/portal/profile?saved=1');
    } catch (e) {
      if (!(e instanceof CatalogueError) || e.error.code !== 'VALIDATION_ERROR') throw e;
      const issues = (e.error.details.issues ?? []) as Array<{ field: string; message: string }>;
      for (const issue of issues) {
        const f = FIELDS.find((x) => x.name === issue.field);
        if (f) errors[f.name] = fieldMessage(f.label, f.name, issue.message);
      }
      if (Object.keys(errors).length === 0) throw e;
    }
  }
  return sendPage(p, 422, 'Profile', profilePage(p, values, errors, false));
}

export const portalProfileRoute: HttpRoute = {
  method: 'GET',
  pattern: /^\/portal\/profile$/,
  auth: false,
  name: 'portal_profile',
  handle: (rt, req, res) => withSession(rt, req, res, 'profile', showProfile),
};

export const portalProfileSaveRoute: HttpRoute = {
  method: 'POST',
  pattern: /^\/portal\/profile$/,
  auth: false,
  name: 'portal_profile_save',
  handle: (rt, req, res) => withSession(rt, req, res, 'profile', saveProfile),
};
