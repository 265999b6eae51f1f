import * as z from 'zod';
import { isCountry } from '../../domain/countries.js';
import { isCurrency } from '../../domain/currencies.js';
import { Decimal, DecimalError } from '../../domain/decimal.js';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from '../../domain/pagination.js';
import { isTimeZone, parseInstant } from '../../domain/time.js';

/**
 * The vocabulary every operation shares: one schema per concept, so a parameter means the
 * same thing and fails the same way everywhere.
 */

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v);
}

export const page = {
  page: z.int().min(1).default(1).describe('Page number, from 1.'),
  per_page: z
    .int()
    .min(1)
    .max(MAX_PER_PAGE)
    .default(DEFAULT_PER_PAGE)
    .describe(`Items per page (1-${MAX_PER_PAGE}, default ${DEFAULT_PER_PAGE}).`),
};

export const Pagination = z.object({
  current_page: z.int(),
  total_pages: z.int(),
  total_count: z.int(),
  next_page: z.int().nullable(),
  prev_page: z.int().nullable(),
});

/** Output instants: ISO 8601 in UTC. */
export const Iso = z.string().describe('ISO 8601 date-time in UTC');
export const IsoNullable = Iso.nullable();

/** Input instants: ISO 8601 date or date-time with offset, or Unix seconds → epoch ms. */
export const Instant = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = parseInstant(v);
    if (ms === null) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an ISO 8601 date (2026-04-01) or date-time with offset (2026-04-01T12:00:00Z), or Unix seconds (got ${show(v)})`,
      });
      return z.NEVER;
    }
    return ms;
  })
  .describe('ISO 8601 date or date-time (e.g. "2026-04-01" or "2026-04-01T12:00:00Z"), or Unix seconds');

/** A calendar date, YYYY-MM-DD. */
export const DateOnly = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-04-01')
  .refine((s) => parseInstant(s) !== null, { message: 'must be a real calendar date like 2026-04-01' })
  .describe('Calendar date, YYYY-MM-DD');

/** Exact decimal input: a string ("12.50") or a number (12.5) → Decimal. Never a float. */
export const DecimalInput = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return Decimal.parse(v);
  } catch (e) {
    ctx.addIssue({
      code: 'custom',
      message: e instanceof DecimalError ? e.message : `is not a decimal number (got ${show(v)})`,
    });
    return z.NEVER;
  }
});

/** An amount of money in major units; may be more precise than the currency (unit prices). */
export const Money = DecimalInput.describe(
  'Amount in major units as a decimal string or number, e.g. "12.50" or 12.5 (exact; no binary rounding)',
);
export const NonNegativeMoney = Money.refine((d) => !d.isNegative(), { message: 'must not be negative' });
export const PositiveMoney = Money.refine((d) => d.isPositive(), { message: 'must be greater than 0' });

export const Currency = z
  .string()
  .transform((s) => s.trim().toUpperCase())
  .refine(isCurrency, { message: 'must be an ISO 4217 currency code such as USD, EUR or JPY' })
  .describe('ISO 4217 currency code, e.g. USD');

export const Country = z
  .string()
  .transform((s) => s.trim().toUpperCase())
  .refine(isCountry, { message: 'must be an ISO 3166-1 alpha-2 country code such as US, FR or JP' })
  .describe('ISO 3166-1 alpha-2 country code, e.g. US');

export const TimeZone = z
  .string()
  .refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/Paris or America/New_York' })
  .describe('IANA time zone, e.g. Europe/Paris');

export const Email = z.email().max(254).describe('Email address');
export const Url = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .describe('http(s) URL');

/** Free-form string key/values the caller attaches to an object (up to 50 keys). */
export const Metadata = z
  .record(z.string().min(1).max(64), z.string().max(1000))
  .refine((m) => Object.keys(m).length <= 50, { message: 'must have at most 50 keys' })
  .describe('String key/value pairs for your own use (at most 50 keys; values up to 1000 characters)');

/** A caller's own identifier: unique per organization, any text up to 255 characters. */
export const ExternalId = z.string().trim().min(1).max(255);

export function text(max = 255) {
  return z.string().trim().max(max);
}

/** References: a Billfold id or the caller's external id. */
export const CustomerRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe("The customer's Billfold id (cus_…) or your external_id for it");

export const ErrorShape = z.object({
  code: z.enum([
    'NOT_FOUND',
    'VALIDATION_ERROR',
    'CONFLICT',
    'INVALID_STATUS',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'RATE_LIMITED',
    'INTERNAL_ERROR',
  ]),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
  hint: z.string().optional(),
});

export const InvoiceRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe('The invoice: its Billfold id (inv_…), its number (e.g. INV-202604-0001) or your external_id');

export const ProductRef = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .describe("The product's code or Billfold id (prod_…)");

/**
 * A date (YYYY-MM-DD, read in the organization's time zone) or an instant → `{ date }` or
 * `{ instant }` in epoch ms, so a due date given as a date means that whole day.
 */
export const DateOrInstant = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v.trim())) {
      if (parseInstant(v.trim()) === null) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a real calendar date like 2026-04-01 (got ${show(v)})`,
        });
        return z.NEVER;
      }
      return { date: v.trim() } as { date: string } | { instant: number };
    }
    const ms = parseInstant(v);
    if (ms === null) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a date (2026-04-01) or a date-time with offset (2026-04-01T12:00:00Z), or Unix seconds (got ${show(v)})`,
      });
      return z.NEVER;
    }
    return { instant: ms } as { date: string } | { instant: number };
  })
  .describe('A date "2026-04-01" (in the organization\'s time zone) or a date-time "2026-04-01T12:00:00Z"');

/** `{ <name>_cents, <name> }` output pair with a description. */
export function moneyOut<N extends string>(name: N, what: string) {
  return {
    [`${name}_cents`]: z.int().describe(`${what}, in the currency's minor unit`),
    [name]: z.string().describe(`${what}, as an exact decimal string`),
  } as { [K in `${N}_cents`]: z.ZodInt } & { [K in N]: z.ZodString };
}
