import type BetterSqlite3 from 'better-sqlite3';
import { Decimal } from '../../domain/decimal.js';
import type { ServiceContext } from '../context.js';

/**
 * Exact decimal arithmetic on TEXT columns inside SQL, so one upsert statement serves both
 * databases: PostgreSQL has `dec_add`, `dec_max` and `dec_sum` from the metering migration
 * (over NUMERIC); SQLite gets the same names here, in JavaScript over Decimal, once per
 * connection.
 */
const registered = new WeakSet<BetterSqlite3.Database>();

function decAdd(a: unknown, b: unknown): string | null {
  if (a === null || b === null) return null;
  return Decimal.parse(a as string)
    .add(Decimal.parse(b as string))
    .toString();
}

function decMax(a: unknown, b: unknown): string | null {
  if (a === null) return (b as string | null) ?? null;
  if (b === null) return a as string;
  return Decimal.parse(b as string).gt(Decimal.parse(a as string)) ? (b as string) : (a as string);
}

export function registerSqliteFunctions(db: BetterSqlite3.Database): void {
  if (registered.has(db)) return;
  db.function('dec_add', { deterministic: true }, decAdd);
  db.function('dec_max', { deterministic: true }, decMax);
  db.aggregate('dec_sum', {
    start: () => Decimal.ZERO,
    step: (acc: Decimal, v: unknown) => (v === null ? acc : acc.add(Decimal.parse(v as string))),
    result: (acc: Decimal) => acc.toString(),
  });
  registered.add(db);
}

/** Makes the decimal SQL functions available on this context's database (a no-op on PostgreSQL). */
export function ensureSqlFunctions(ctx: ServiceContext): void {
  const raw = ctx.env.db.sqlite;
  if (raw) registerSqliteFunctions(raw);
}
