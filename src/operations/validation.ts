import type * as z from 'zod';
import { Decimal } from '../domain/decimal.js';
import { BillfoldError } from '../domain/errors.js';
import { formatJsonPath } from '../domain/json-depth.js';

/**
 * Turns zod issues into one VALIDATION_ERROR whose message a model can act on: each problem
 * names the field, the value it got and what would work ("status must be one of draft,
 * finalized, voided (got 'paid')").
 */
export interface SchemaLookup {
  /** The field names an object schema accepts at `path`. */
  fieldsAt(path: readonly PropertyKey[]): string[] | undefined;
  /** Whether the schema at `path` takes integers only. */
  isIntegerAt(path: readonly PropertyKey[]): boolean;
}

export function validationErrorFrom(error: z.ZodError, lookup?: SchemaLookup): BillfoldError {
  const issues = (error.issues as Issue[]).map((issue) => {
    const field = formatPath(issue.path);
    return { field: field || '(input)', message: describe(issue, field, lookup), code: issue.code };
  });
  const message = issues.map((i) => i.message).join('; ');
  return new BillfoldError('VALIDATION_ERROR', message, { issues });
}

type Issue = z.core.$ZodIssue & { input?: unknown };

function formatPath(path: readonly PropertyKey[]): string {
  return formatJsonPath(path.map((p) => (typeof p === 'number' ? p : String(p))));
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 57)}...` : v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'an array';
  // A decimal the schema already parsed, failing a later check (a quantity of 0).
  if (Decimal.isDecimal(v)) return v.toString();
  return `a ${typeof v}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  bigint: 'an integer',
  date: 'a date',
  record: 'an object',
};

/**
 * Words the systems Billfold replaces use for values Billfold names otherwise (Orvion's sent
 * and paid invoices, Lago's add_on invoices, MarginFront's signals). Each hint is given only
 * where the value it names is one the field takes.
 */
const SEED_WORDS: Record<string, ReadonlyArray<readonly [value: string, why: string]>> = {
  sent: [['finalized', "Billfold calls a sent invoice 'finalized'"]],
  issued: [['finalized', "Billfold calls an issued invoice 'finalized'"]],
  open: [['finalized', "an open invoice is 'finalized' with payment_status 'pending'"]],
  unpaid: [['pending', "an unpaid invoice has payment_status 'pending'"]],
  paid: [
    ['succeeded', "a paid invoice has payment_status 'succeeded'"],
    ['finalized', "a paid invoice is 'finalized' with payment_status 'succeeded'"],
  ],
  overdue: [
    ['finalized', "an overdue invoice is 'finalized' and past its due date: filter with overdue: true"],
  ],
  canceled: [
    ['voided', "Billfold calls a canceled invoice 'voided'"],
    ['terminated', "Billfold calls a canceled subscription or coupon 'terminated'"],
  ],
  cancelled: [
    ['voided', "Billfold calls a cancelled invoice 'voided'"],
    ['terminated', "Billfold calls a cancelled subscription or coupon 'terminated'"],
  ],
  void: [['voided', "Billfold calls a void invoice 'voided'"]],
  add_on: [['one_off', "Lago's add-on invoice is Billfold's 'one_off' invoice"]],
  one_time: [['one_off', "Billfold calls a one-time invoice 'one_off'"]],
  signal: [['metric', "MarginFront's signal is Billfold's billable metric"]],
  inactive: [['disabled', "Billfold calls an inactive customer 'disabled'"]],
};

/** What a refused enum word most likely meant: another spelling of a value, or a seed's word. */
function wordHint(input: unknown, values: readonly string[]): string {
  if (typeof input !== 'string') return '';
  const spelled = input
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[\s-]+/g, '_')
    .toLowerCase();
  if (spelled !== input && values.includes(spelled)) return `; did you mean '${spelled}'?`;
  const hints = (SEED_WORDS[spelled] ?? []).filter(([value]) => values.includes(value));
  return hints.length ? `; ${hints.map(([, why]) => why).join('; ')}` : '';
}

function describe(issue: Issue, field: string, lookup?: SchemaLookup): string {
  const subject = field || 'input';
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return `${subject} is required`;
      const expected =
        issue.expected === 'number' && lookup?.isIntegerAt(issue.path) ? 'int' : issue.expected;
      const want = TYPE_WORDS[expected] ?? expected;
      return `${subject} must be ${want} (got ${show(issue.input)})`;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v)).join(', ');
      if (issue.input === undefined) return `${subject} is required: one of ${values}`;
      const got = `got ${show(issue.input)}${wordHint(issue.input, issue.values.map(String))}`;
      return issue.values.length === 1
        ? `${subject} must be ${values} (${got})`
        : `${subject} must be one of ${values} (${got})`;
    }
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'string') return `${subject} must be at most ${max} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `${subject} must have at most ${max} items`;
      return `${subject} must be ${issue.inclusive ? 'at most' : 'less than'} ${max} (got ${show(issue.input)})`;
    }
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'string') {
        return issue.minimum === 1
          ? `${subject} must not be empty`
          : `${subject} must be at least ${min} characters long`;
      }
      if (issue.origin === 'array' || issue.origin === 'set')
        return `${subject} must have at least ${min} item${min === '1' ? '' : 's'}`;
      return `${subject} must be ${issue.inclusive ? 'at least' : 'greater than'} ${min} (got ${show(issue.input)})`;
    }
    case 'invalid_format': {
      const what: Record<string, string> = {
        email: 'an email address like name@example.com',
        url: 'an absolute URL like https://example.com',
        datetime: 'an ISO 8601 date-time like 2026-04-01T12:00:00Z',
        date: 'a date like 2026-04-01',
        uuid: 'a UUID',
        regex: 'in the expected format',
      };
      return `${subject} must be ${what[issue.format] ?? `a valid ${issue.format}`} (got ${show(issue.input)})`;
    }
    case 'unrecognized_keys': {
      const where = field ? ` in ${field}` : '';
      const names = issue.keys.map((k) => `'${k}'`).join(', ');
      const known = lookup?.fieldsAt(issue.path);
      const list = known && known.length ? `; the fields are: ${known.join(', ')}` : '';
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${names}${where}${list}`;
    }
    case 'invalid_union': {
      const expected = new Set<string>();
      for (const branch of issue.errors) {
        for (const sub of branch)
          if (sub.code === 'invalid_type' && sub.path.length === 0)
            expected.add(TYPE_WORDS[sub.expected] ?? sub.expected);
      }
      if (issue.input === undefined) return `${subject} is required`;
      if (expected.size) return `${subject} must be ${[...expected].join(' or ')} (got ${show(issue.input)})`;
      const first = issue.errors[0]?.[0];
      return first ? `${subject}: ${first.message}` : `${subject} is not valid`;
    }
    case 'invalid_key':
      return `${subject} has an invalid key`;
    case 'not_multiple_of':
      return `${subject} must be a multiple of ${String(issue.divisor)}`;
    default: {
      const got =
        'input' in issue && issue.input !== undefined && !issue.message.includes('(got')
          ? ` (got ${show(issue.input)})`
          : '';
      return (
        (issue.message.startsWith(subject) || !field ? issue.message : `${subject} ${issue.message}`) + got
      );
    }
  }
}
