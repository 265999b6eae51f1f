import * as z from 'zod';
import { parseHexColour, toHex } from '../domain/colour.js';
import { isValidBic, isValidIban, normalizeIban } from '../domain/iban.js';
import { pagination } from '../domain/pagination.js';
import { toIso } from '../domain/time.js';
import * as settings from '../services/organization-settings.js';
import * as orgs from '../services/organizations.js';
import { CREATE, READ, TOGGLE, UPDATE, defineOperation } from './define.js';
import { Country, Currency, Email, Iso, Pagination, TimeZone, Url, page, text } from './schemas/common.js';
import { InvoiceNumbering, Organization } from './schemas/invoice.js';

const group = 'organization';

export const getOrganization = defineOperation({
  name: 'get_organization',
  title: 'Get the organization settings',
  description:
    'Returns your organization as it appears on invoices (name, legal name, address, email, tax id), its ' +
    'defaults (currency, time zone, net_payment_term in days) and invoicing settings (number prefix and ' +
    'numbering, footer, bank details printed as payment instructions, whether generated invoices are finalized) ' +
    "and the customer portal's branding (logo_url, accent_color), its external_id and whether it is disabled. " +
    'A platform key may name another organization with organization_id.',
  group,
  scope: 'admin',
  annotations: READ,
  input: z.strictObject({
    organization_id: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .describe(
        'Platform keys only: another organization, by id (org_…) or external_id. Leave it out for your own.',
      ),
  }),
  output: z.object({ organization: Organization }),
  handler: async (ctx, input) => ({
    organization: await settings.getOrganization(ctx, input.organization_id),
  }),
});

export const updateOrganization = defineOperation({
  name: 'update_organization',
  title: 'Update the organization settings',
  description:
    'Changes the settings you pass and leaves the others; null clears an optional one. Finalized invoices ' +
    'keep the details they were issued with; drafts and new invoices use the new ones. invoice_numbering: ' +
    'per_organization gives {PREFIX}-{YYYY}{MM}-{SEQ:4} from one gapless sequence (INV-202604-0042); ' +
    'per_customer gives {PREFIX}-{CUSTOMER:3}-{SEQ:4} with a sequence per customer (INV-007-0003). The IBAN ' +
    'and BIC are checked. logo_url and accent_color brand the customer portal; the portal keeps text readable ' +
    'whatever the colour (white or dark text on it, a darker shade of it for links).',
  group,
  scope: 'admin',
  annotations: UPDATE,
  input: z.strictObject({
    name: text().min(1).optional(),
    legal_name: text().nullable().optional(),
    email: Email.nullable().optional(),
    address_line1: text().nullable().optional(),
    address_line2: text().nullable().optional(),
    city: text(100).nullable().optional(),
    state: text(100).nullable().optional(),
    zipcode: text(20).nullable().optional(),
    country: Country.nullable().optional(),
    tax_identification_number: text(100).nullable().optional().describe('VAT or tax id printed on invoices'),
    default_currency: Currency.optional().describe('Currency of invoices whose customer has none'),
    timezone: TimeZone.optional().describe('Time zone of issue and due dates, and of invoice-number months'),
    net_payment_term: z.int().min(0).max(365).optional().describe('Default days to pay'),
    invoice_prefix: z
      .string()
      .trim()
      .transform((s) => s.toUpperCase())
      .pipe(
        z
          .string()
          .min(1)
          .max(20)
          .regex(
            /^[A-Z0-9]+(-[A-Z0-9]+)*$/,
            'must be letters and digits, optionally joined by dashes, e.g. INV or ACME-INV',
          ),
      )
      .optional(),
    invoice_numbering: InvoiceNumbering.optional(),
    invoice_footer: text(1000).nullable().optional().describe('Printed at the bottom of every invoice'),
    bank_name: text(100).nullable().optional(),
    bank_iban: z
      .string()
      .transform(normalizeIban)
      .refine(isValidIban, {
        message:
          'must be a valid IBAN (country, check digits and account), e.g. FR76 3000 6000 0112 3456 7890 189',
      })
      .nullable()
      .optional(),
    bank_bic: z
      .string()
      .transform((s) => s.trim().toUpperCase())
      .refine(isValidBic, { message: 'must be a BIC of 8 or 11 characters, e.g. AGRIFRPP' })
      .nullable()
      .optional(),
    logo_url: Url.nullable().optional().describe('An http(s) URL of your logo, shown by the customer portal'),
    accent_color: z
      .string()
      .transform((s, ctx) => {
        const rgb = parseHexColour(s);
        if (rgb) return toHex(rgb);
        ctx.addIssue({ code: 'custom', message: `must be a hex colour like #1f6feb or #16a (got '${s}')` });
        return z.NEVER;
      })
      .nullable()
      .optional()
      .describe("The customer portal's accent colour (header, links, buttons) as #rrggbb or #rgb"),
    finalize_invoices: z
      .boolean()
      .optional()
      .describe(
        'Whether invoices Billfold generates (subscriptions, usage) are finalized at once or left as drafts',
      ),
    past_due_grace_period_days: z
      .int()
      .min(0)
      .max(365)
      .optional()
      .describe(
        'Days an invoice may stay overdue before its subscription counts as past_due (default 0: from the day after its due date)',
      ),
  }),
  output: z.object({ organization: Organization }),
  handler: async (ctx, input) => ({ organization: await settings.updateOrganization(ctx, input) }),
});

const OrganizationRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('The organization: its id (org_…) or its external_id');

const ApiKey = z.object({
  id: z.string().describe('Billfold id, key_…'),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to tell keys apart'),
  scopes: z.array(z.enum(['read', 'write', 'admin', 'platform'])),
  created_at: Iso,
});

export const createOrganization = defineOperation({
  name: 'create_organization',
  title: 'Create an organization',
  description:
    'Platform keys only. Creates an organization — a tenant whose customers, invoices, usage and keys no other ' +
    'organization sees — and its first admin key. The key is returned in full only in this answer: hand it to ' +
    "the organization's administrator. external_id is the organization's id in another system (the organization " +
    'claim of your identity provider), unique across the installation.',
  group,
  scope: 'platform',
  annotations: CREATE,
  input: z.strictObject({
    name: text(200).min(1).describe('The name printed on its invoices, e.g. "Acme Ltd"'),
    external_id: text(255)
      .min(1)
      .optional()
      .describe("The organization's id in another system, e.g. an identity provider's org_2abc…"),
  }),
  output: z.object({
    organization: Organization,
    api_key: ApiKey,
    key: z.string().describe('The first admin key, shown only now'),
  }),
  secretOutput: ['key'],
  handler: async (ctx, input) => {
    const made = await orgs.createOrganizationWithAdminKey(ctx.db, {
      name: input.name,
      externalId: input.external_id,
      now: ctx.now(),
    });
    return {
      organization: settings.organizationView(made.organization),
      api_key: { ...made.apiKey, created_at: toIso(made.apiKey.created_at) },
      key: made.key,
    };
  },
});

export const listOrganizations = defineOperation({
  name: 'list_organizations',
  title: 'List organizations',
  description:
    'Platform keys only. Every organization of this installation, oldest first; status keeps the active or ' +
    'the disabled ones, search matches name, legal name, external_id or id.',
  group,
  scope: 'platform',
  annotations: READ,
  input: z.strictObject({
    status: z.enum(['active', 'disabled']).optional(),
    search: z.string().trim().min(1).max(200).optional(),
    ...page,
  }),
  output: z.object({ organizations: z.array(Organization), pagination: Pagination }),
  handler: async (ctx, { page: p, per_page, ...filter }) => {
    const req = { page: p, per_page };
    const { organizations, totalCount } = await orgs.listOrganizations(ctx.db, filter, req);
    return {
      organizations: organizations.map(settings.organizationView),
      pagination: pagination(req, totalCount),
    };
  },
});

export const disableOrganization = defineOperation({
  name: 'disable_organization',
  title: 'Disable an organization',
  description:
    'Platform keys only. Every API key and token of the organization is refused from now on (FORBIDDEN, naming ' +
    'the organization); nothing is deleted, and enable_organization restores it as it was. The default ' +
    'organization cannot be disabled.',
  group,
  scope: 'platform',
  annotations: TOGGLE,
  input: z.strictObject({ organization_id: OrganizationRef }),
  output: z.object({ organization: Organization }),
  handler: async (ctx, input) => ({
    organization: settings.organizationView(
      await orgs.disableOrganization(ctx.db, input.organization_id, ctx.now()),
    ),
  }),
});

export const enableOrganization = defineOperation({
  name: 'enable_organization',
  title: 'Enable an organization',
  description:
    'Platform keys only. Enables a disabled organization again: its keys that are neither revoked nor expired ' +
    'work again.',
  group,
  scope: 'platform',
  annotations: TOGGLE,
  input: z.strictObject({ organization_id: OrganizationRef }),
  output: z.object({ organization: Organization }),
  handler: async (ctx, input) => ({
    organization: settings.organizationView(
      await orgs.enableOrganization(ctx.db, input.organization_id, ctx.now()),
    ),
  }),
});

export const updateOrganizationIdentity = defineOperation({
  name: 'update_organization_identity',
  title: 'Rename an organization or set its external id',
  description:
    "Platform keys only. Sets an organization's name (printed on its invoices) or its external_id (its id in " +
    'another system, found by the organization claim of bearer tokens; null clears it, and it is unique across the ' +
    'installation) — the default organization included, which is yours when organization_id is left out. The ' +
    "organization's own admin changes its other settings with update_organization.",
  group,
  scope: 'platform',
  annotations: UPDATE,
  input: z.strictObject({
    organization_id: OrganizationRef.optional().describe(
      'The organization, by id (org_…) or external_id; leave it out for your own (the default organization)',
    ),
    name: text(200).min(1).optional().describe('The name printed on its invoices, e.g. "Acme Ltd"'),
    external_id: text(255)
      .min(1)
      .nullable()
      .optional()
      .describe(
        "The organization's id in another system, e.g. an identity provider's org_2abc…; null clears it",
      ),
  }),
  output: z.object({ organization: Organization }),
  handler: async (ctx, input) => ({
    organization: settings.organizationView(
      await orgs.updateOrganizationIdentity(
        ctx.db,
        input.organization_id ?? ctx.organizationId,
        { name: input.name, externalId: input.external_id },
        ctx.now(),
      ),
    ),
  }),
});

export const organizationOperations = [
  getOrganization,
  updateOrganization,
  createOrganization,
  listOrganizations,
  disableOrganization,
  enableOrganization,
  updateOrganizationIdentity,
];
