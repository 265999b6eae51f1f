import { describe, expect, it } from 'vitest';
import { ExpressionError, parseExpression } from '../../src/domain/expression.js';

const ev = (properties: Record<string, unknown>, timestamp = 1_767_225_600_000) => ({
  properties,
  timestamp,
});

describe('metric expressions', () => {
  it('evaluates arithmetic exactly with precedence, parentheses, unary minus and functions', () => {
    expect(
      parseExpression('(ended_at - started_at) * units')
        .evaluate(ev({ started_at: 100, ended_at: '160.5', units: 2 }))
        .toString(),
    ).toBe('121');
    expect(parseExpression('0.1 + 0.2').evaluate(ev({})).toString()).toBe('0.3');
    expect(parseExpression('1 + 2 * 3 - -4').evaluate(ev({})).toString()).toBe('11');
    expect(parseExpression('round(10 / 3, 2) + ceil(1.01) + floor(-1.5)').evaluate(ev({})).toString()).toBe(
      '3.33',
    );
    expect(parseExpression('1 / 3').evaluate(ev({})).toString()).toBe('0.33333333333333333333');
    expect(
      parseExpression('event.properties.gb * 2')
        .evaluate(ev({ gb: 1.5 }))
        .toString(),
    ).toBe('3');
    expect(parseExpression('event.timestamp').evaluate(ev({}, 1_767_225_600_500)).toString()).toBe(
      '1767225600.5',
    );
    expect(parseExpression('a + b').variables()).toEqual(['a', 'b']);
  });

  it('says where a syntax error is and which property is missing or not a number', () => {
    const err = (src: string) => {
      try {
        parseExpression(src);
      } catch (e) {
        expect(e).toBeInstanceOf(ExpressionError);
        return (e as Error).message;
      }
      throw new Error('parsed');
    };
    expect(err('(a + b')).toBe("expected ')' at position 7 (the expression ended)");
    expect(err('a + * b')).toBe("unexpected '*' at position 5; expected a number, a property name or (");
    expect(err('process.exit(1)')).toMatch(
      /^unknown function 'process.exit'|'process.exit' at position 1 is not a property/,
    );
    expect(err('eval(1)')).toBe(
      "unknown function 'eval' at position 1; the functions are round, ceil and floor",
    );
    expect(err('a $ b')).toBe("unexpected character '$' at position 3");
    expect(err('1 2')).toBe("unexpected '2' at position 3");
    const compiled = parseExpression('a / b');
    expect(() => compiled.evaluate(ev({ a: 1 }))).toThrow("property 'b' is missing");
    expect(() => compiled.evaluate(ev({ a: 1, b: 'x' }))).toThrow('property \'b\' is not a number (got "x")');
    expect(() => compiled.evaluate(ev({ a: 1, b: 0 }))).toThrow('division by zero');
  });
});
