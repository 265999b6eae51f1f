/** IBAN (ISO 13616) and BIC (ISO 9362) checks, so bank details printed on invoices are real. */

export function normalizeIban(text: string): string {
  return text.replace(/\s+/g, '').toUpperCase();
}

/** True when the IBAN has a valid shape and its mod-97 check digits hold. */
export function isValidIban(text: string): boolean {
  const iban = normalizeIban(text);
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of code) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

export function isValidBic(text: string): boolean {
  return /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(text.trim().toUpperCase());
}

/** "FR7630006000011234567890189" → "FR76 3000 6000 0112 3456 7890 189". */
export function formatIban(text: string): string {
  return normalizeIban(text)
    .replace(/(.{4})/g, '$1 ')
    .trim();
}
