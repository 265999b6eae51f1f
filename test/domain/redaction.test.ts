import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACTED_KEYS, keyWords, secretKeyMatcher } from '../../src/domain/redaction.js';

describe('secret key names', () => {
  it('splits keys into words whatever their case or punctuation', () => {
    expect(keyWords('apiKey')).toEqual(['api', 'key']);
    expect(keyWords('X-API-Key')).toEqual(['x', 'api', 'key']);
    expect(keyWords('APIKey')).toEqual(['api', 'key']);
    expect(keyWords('bank_iban')).toEqual(['bank', 'iban']);
    expect(keyWords('card2Number')).toEqual(['card2', 'number']);
  });

  it('matches the default secrets word by word, not by substring', () => {
    const secret = secretKeyMatcher(DEFAULT_REDACTED_KEYS);
    for (const key of [
      'password',
      'db_password',
      'Password',
      'passwd',
      'client_secret',
      'clientSecret',
      'access_token',
      'refresh-token',
      'api_key',
      'apiKey',
      'APIKEY',
      'x-api-key',
      'authorization',
      'Authorization',
      'iban',
      'bank_iban',
      'IBAN',
      'card',
      'card_number',
      'creditCard',
      'cvv',
      'card_cvc',
    ])
      expect(secret(key), key).toBe(true);
    for (const key of [
      'input_tokens',
      'output_tokens',
      'tokens',
      'discard',
      'scorecard',
      'name',
      'api',
      'key',
      'passport_country',
      'secretary_name',
      'bank_bic',
      'description',
    ])
      expect(secret(key), key).toBe(false);
  });

  it('takes any list of patterns, each a word sequence', () => {
    const secret = secretKeyMatcher(['tax_id', 'ssn']);
    expect(secret('customer_tax_id')).toBe(true);
    expect(secret('taxId')).toBe(true);
    expect(secret('SSN')).toBe(true);
    expect(secret('tax')).toBe(false);
    expect(secret('password')).toBe(false);
    expect(secretKeyMatcher([])('password')).toBe(false);
  });
});
