import { invalidFields, LagoError } from './errors.js';

/**
 * Reading a Lago request strictly: every field and query parameter is either mapped onto
 * Billfold or refused by name. A field Lago has and Billfold does not is accepted only when it
 * would change nothing (absent, null, empty, or Lago's own default), so a request is never
 * half-applied in silence.
 */

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** One JSON object of a request body, read field by field. */
export class Fields {
  private readonly seen = new Set<string>();
  constructor(
    readonly value: Record<string, unknown>,
    /** Where this object sits, for messages: `customer`, `plan.charges[0]`. */
    readonly path: string,
  ) {}

  /** The body's root object, `{ "<key>": { … } }`, as Lago requires it (400 without it). */
  static root(body: unknown, key: string, inertBeside: Record<string, unknown[]> = {}): Fields {
    const root =
      body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    const v = root[key];
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      throw new LagoError(
        400,
        undefined,
        `param is missing or the value is empty: ${key}`,
        undefined,
        `Send a JSON body like {"${key}": {…}}.`,
      );
    }
    const extra = Object.keys(root).filter(
      (k) =>
        k !== key &&
        root[k] !== undefined &&
        root[k] !== null &&
        !(inertBeside[k] ?? []).some((v) => sameValue(v, root[k])),
    );
    if (extra.length) {
      throw invalidFields(Object.fromEntries(extra.map((k) => [k, `unknown field beside ${key}`])));
    }
    return new Fields(v as Record<string, unknown>, key);
  }

  private where(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  has(name: string): boolean {
    return this.value[name] !== undefined;
  }

  /** The raw value (marks the field as read). */
  get(name: string): unknown {
    this.seen.add(name);
    return this.value[name];
  }

  /** Copies the field into `out` under `as` (default: the same name) when present; null passes. */
  copy(out: Record<string, unknown>, name: string, as = name): void {
    const v = this.get(name);
    if (v !== undefined) out[as] = v;
  }

  str(name: string): string | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string')
      throw invalidFields({ [this.where(name)]: `must be a string (got ${show(v)})` });
    return v;
  }

  int(name: string): number | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim())) return Number(v.trim());
    throw invalidFields({ [this.where(name)]: `must be an integer (got ${show(v)})` });
  }

  bool(name: string): boolean | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    throw invalidFields({ [this.where(name)]: `must be true or false (got ${show(v)})` });
  }

  obj(name: string): Fields | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v))
      throw invalidFields({ [this.where(name)]: `must be an object (got ${show(v)})` });
    return new Fields(v as Record<string, unknown>, this.where(name));
  }

  list(name: string): Fields[] | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw invalidFields({ [this.where(name)]: `must be an array (got ${show(v)})` });
    return v.map((item, i) => {
      if (!item || typeof item !== 'object' || Array.isArray(item))
        throw invalidFields({ [`${this.where(name)}[${i}]`]: `must be an object (got ${show(item)})` });
      return new Fields(item as Record<string, unknown>, `${this.where(name)}[${i}]`);
    });
  }

  /**
   * A Lago field Billfold has no counterpart for: accepted when absent, empty or equal to one
   * of `inert` (the values that mean "nothing"), refused by name otherwise.
   */
  inert(name: string, ...inert: unknown[]): void {
    const v = this.get(name);
    if (isEmpty(v) || inert.some((d) => sameValue(d, v))) return;
    throw unsupported(this.where(name), v);
  }

  /** Refuses every field not read: unknown to Lago, or one Billfold cannot honour. */
  done(): void {
    for (const [k, v] of Object.entries(this.value)) {
      if (this.seen.has(k) || isEmpty(v)) continue;
      throw unsupported(this.where(k), v);
    }
  }
}

export function unsupported(field: string, value: unknown): LagoError {
  return invalidFields(
    { [field]: `is not supported by Billfold's Lago API (got ${show(value)}); leave it out` },
    "README's Lago API table lists the fields and endpoints Billfold answers.",
  );
}

/** The query string, read parameter by parameter; `name[]` and `name` are the same list. */
export class Query {
  private readonly seen = new Set<string>();
  constructor(readonly params: URLSearchParams) {}

  private values(name: string): string[] {
    this.seen.add(name);
    this.seen.add(`${name}[]`);
    return [...this.params.getAll(name), ...this.params.getAll(`${name}[]`)];
  }

  str(name: string): string | undefined {
    const v = this.values(name);
    if (v.length > 1) throw invalidFields({ [name]: `takes one value (got ${v.length})` });
    return v[0] === undefined || v[0] === '' ? undefined : v[0];
  }

  int(name: string): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (!/^\d{1,9}$/.test(v)) throw invalidFields({ [name]: `must be a whole number (got '${v}')` });
    return Number(v);
  }

  bool(name: string): boolean | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw invalidFields({ [name]: `must be true or false (got '${v}')` });
  }

  list(name: string): string[] {
    return this.values(name)
      .flatMap((v) => v.split(','))
      .filter((v) => v !== '');
  }

  /** One value from a Lago list parameter that Billfold filters by one value at a time. */
  one(name: string, also?: string): string | undefined {
    const v = [...this.list(name), ...(also ? this.list(also) : [])];
    if (v.length > 1)
      throw invalidFields({ [name]: `Billfold filters by one value at a time (got ${v.join(', ')})` });
    return v[0];
  }

  /** A Lago list parameter Billfold has no counterpart for: only the values meaning "all" pass. */
  inert(name: string, ...allowed: string[]): void {
    for (const v of this.list(name)) if (!allowed.includes(v)) throw unsupported(name, v);
  }

  /** `page` and `per_page`, Lago's pagination. */
  page(): { page?: number; per_page?: number } {
    const out: { page?: number; per_page?: number } = {};
    const page = this.int('page');
    const perPage = this.int('per_page');
    if (page !== undefined) out.page = page;
    if (perPage !== undefined) out.per_page = perPage;
    return out;
  }

  /** Refuses any parameter not read. */
  done(): void {
    for (const key of new Set(this.params.keys())) {
      if (this.seen.has(key)) continue;
      throw unsupported(key, this.params.get(key));
    }
  }
}
