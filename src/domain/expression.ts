import { Decimal, DecimalError } from './decimal.js';

/**
 * A billable metric's `expression`: arithmetic over an event's properties, evaluated exactly
 * per event at ingestion (e.g. `(ended_at - started_at) * units`). A small recursive-descent
 * parser and a tree walker — no `eval`, no access to anything but the event's numbers.
 *
 * Grammar: expr := term (('+' | '-') term)*; term := unary (('*' | '/') unary)*;
 * unary := '-' unary | primary; primary := number | name | call | '(' expr ')';
 * call := ('round' | 'ceil' | 'floor') '(' expr (',' expr)? ')'. A name is a property
 * (`units`, `event.properties.units`) or `event.timestamp` (Unix seconds).
 */

export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly position?: number,
  ) {
    super(message);
  }
}

type Node =
  | { k: 'num'; v: Decimal }
  | { k: 'var'; name: string }
  | { k: 'neg'; a: Node }
  | { k: 'bin'; op: '+' | '-' | '*' | '/'; a: Node; b: Node }
  | { k: 'call'; fn: 'round' | 'ceil' | 'floor'; a: Node; digits?: Node };

/** Decimals kept by a division that does not terminate (then rounded half-up). */
export const DIVISION_SCALE = 20;
const MAX_LENGTH = 1000;
const MAX_DEPTH = 50;
const FUNCTIONS = new Set(['round', 'ceil', 'floor']);

interface Token {
  t: 'num' | 'name' | 'op' | 'end';
  v: string;
  at: number;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const num = /^(\d+(\.\d+)?|\.\d+)/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: num[0], at: i });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(src.slice(i));
    if (name) {
      out.push({ t: 'name', v: name[0], at: i });
      i += name[0].length;
      continue;
    }
    if ('+-*/(),'.includes(c)) {
      out.push({ t: 'op', v: c, at: i });
      i++;
      continue;
    }
    throw new ExpressionError(`unexpected character '${c}' at position ${i + 1}`, i);
  }
  out.push({ t: 'end', v: '', at: src.length });
  return out;
}

/** Parses an expression; throws ExpressionError saying where and what is wrong. */
export function parseExpression(src: string): CompiledExpression {
  if (src.length > MAX_LENGTH) throw new ExpressionError(`must be at most ${MAX_LENGTH} characters`);
  const tokens = tokenize(src);
  let pos = 0;
  let depth = 0;
  const peek = () => tokens[pos]!;
  const next = () => tokens[pos++]!;
  const expect = (v: string) => {
    const t = next();
    if (t.v !== v || t.t === 'num' || t.t === 'name') {
      throw new ExpressionError(
        `expected '${v}' at position ${t.at + 1}${t.t === 'end' ? ' (the expression ended)' : ` (got '${t.v}')`}`,
        t.at,
      );
    }
  };
  const expr = (): Node => {
    if (++depth > MAX_DEPTH) throw new ExpressionError(`is nested more than ${MAX_DEPTH} levels deep`);
    let a = term();
    while (peek().t === 'op' && (peek().v === '+' || peek().v === '-')) {
      const op = next().v as '+' | '-';
      a = { k: 'bin', op, a, b: term() };
    }
    depth--;
    return a;
  };
  const term = (): Node => {
    let a = unary();
    while (peek().t === 'op' && (peek().v === '*' || peek().v === '/')) {
      const op = next().v as '*' | '/';
      a = { k: 'bin', op, a, b: unary() };
    }
    return a;
  };
  const unary = (): Node => {
    if (peek().t === 'op' && peek().v === '-') {
      next();
      if (++depth > MAX_DEPTH) throw new ExpressionError(`is nested more than ${MAX_DEPTH} levels deep`);
      const a = unary();
      depth--;
      return { k: 'neg', a };
    }
    if (peek().t === 'op' && peek().v === '+') {
      next();
      return unary();
    }
    return primary();
  };
  const primary = (): Node => {
    const t = next();
    if (t.t === 'num') return { k: 'num', v: Decimal.parse(t.v) };
    if (t.t === 'name') {
      if (peek().t === 'op' && peek().v === '(') {
        if (!FUNCTIONS.has(t.v)) {
          throw new ExpressionError(
            `unknown function '${t.v}' at position ${t.at + 1}; the functions are round, ceil and floor`,
            t.at,
          );
        }
        next();
        const a = expr();
        let digits: Node | undefined;
        if (peek().t === 'op' && peek().v === ',') {
          next();
          digits = expr();
        }
        expect(')');
        return { k: 'call', fn: t.v as 'round' | 'ceil' | 'floor', a, digits };
      }
      return { k: 'var', name: variableName(t.v, t.at) };
    }
    if (t.t === 'op' && t.v === '(') {
      const a = expr();
      expect(')');
      return a;
    }
    throw new ExpressionError(
      t.t === 'end'
        ? 'ended where a number, a property name or ( was expected'
        : `unexpected '${t.v}' at position ${t.at + 1}; expected a number, a property name or (`,
      t.at,
    );
  };
  const root = expr();
  const end = peek();
  if (end.t !== 'end') {
    throw new ExpressionError(`unexpected '${end.v}' at position ${end.at + 1}`, end.at);
  }
  return new CompiledExpression(src, root);
}

function variableName(raw: string, at: number): string {
  if (raw === 'event.timestamp') return raw;
  if (raw.startsWith('event.properties.')) return raw.slice('event.properties.'.length);
  if (raw.includes('.')) {
    throw new ExpressionError(
      `'${raw}' at position ${at + 1} is not a property; use a property name (units) or event.properties.<name>`,
      at,
    );
  }
  return raw;
}

export interface ExpressionInput {
  properties: Record<string, unknown>;
  /** Epoch milliseconds; `event.timestamp` is this in Unix seconds. */
  timestamp: number;
}

export class CompiledExpression {
  constructor(
    readonly source: string,
    private readonly root: Node,
  ) {}

  /** The property names the expression reads. */
  variables(): string[] {
    const out = new Set<string>();
    const walk = (n: Node) => {
      if (n.k === 'var' && n.name !== 'event.timestamp') out.add(n.name);
      else if (n.k === 'neg') walk(n.a);
      else if (n.k === 'bin') {
        walk(n.a);
        walk(n.b);
      } else if (n.k === 'call') {
        walk(n.a);
        if (n.digits) walk(n.digits);
      }
    };
    walk(this.root);
    return [...out];
  }

  /** The exact value for one event; throws ExpressionError naming the missing or bad property. */
  evaluate(input: ExpressionInput): Decimal {
    return this.eval(this.root, input).normalize();
  }

  private eval(n: Node, input: ExpressionInput): Decimal {
    switch (n.k) {
      case 'num':
        return n.v;
      case 'var': {
        if (n.name === 'event.timestamp') return Decimal.of(BigInt(input.timestamp), 3);
        const raw = input.properties[n.name];
        if (raw === undefined || raw === null) {
          throw new ExpressionError(`property '${n.name}' is missing`);
        }
        const d = typeof raw === 'string' || typeof raw === 'number' ? Decimal.tryParse(raw) : null;
        if (!d)
          throw new ExpressionError(`property '${n.name}' is not a number (got ${JSON.stringify(raw)})`);
        return d;
      }
      case 'neg':
        return this.eval(n.a, input).neg();
      case 'bin': {
        const a = this.eval(n.a, input);
        const b = this.eval(n.b, input);
        if (n.op === '+') return a.add(b);
        if (n.op === '-') return a.sub(b);
        if (n.op === '*') return a.mul(b);
        if (b.isZero()) throw new ExpressionError('division by zero');
        return a.div(b, DIVISION_SCALE, 'half_up').normalize();
      }
      case 'call': {
        const a = this.eval(n.a, input);
        let digits = 0;
        if (n.digits) {
          const d = this.eval(n.digits, input);
          if (!d.isInteger() || d.isNegative() || d.gt(20)) {
            throw new ExpressionError(`${n.fn}: the number of decimals must be a whole number from 0 to 20`);
          }
          digits = d.toIntegerNumber();
        }
        const mode = n.fn === 'round' ? 'half_up' : n.fn;
        return a.round(digits, mode);
      }
    }
  }
}

/** True when the error comes from parsing or evaluating an expression or a decimal. */
export function isExpressionError(e: unknown): e is ExpressionError | DecimalError {
  return e instanceof ExpressionError || e instanceof DecimalError;
}
