/**
 * PII masking of free text, shared by the services that offer it: feedback masks the text of the
 * events it publishes (`FEEDBACK_REDACT_PII`, after validation and after the idempotency hash, so a
 * retry with the same raw text is still recognised as a duplicate), datasets masks every text of a
 * snapshot's records when the dataset asks for it (`redact: true`).
 *
 * It is deliberately conservative about what it leaves alone, not about what it masks:
 * - e-mail: `local@domain.tld` (RFC 5322 "dot-atom" shapes, which is what people type).
 * - phone: an optional `+`, then 9 to 15 digits (E.164 allows at most 15; national numbers with
 *   area code have 9 or more) in groups separated by single spaces, dots, dashes or parentheses.
 *   Short local numbers (`555-1234`) are NOT masked; long digit runs such as order numbers ARE
 *   (over-masking is the safe side for PII). Dates (`2025-01-31`, 8 digits), times and decimals
 *   are left alone.
 */
export const EMAIL_MASK = '[email]';
export const PHONE_MASK = '[phone]';

const EMAIL_RE =
  /[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}/g;

// A candidate: starts with + ( or a digit, then digits and single separators; not glued to a word
// or to another number. The digit count is checked in code (a regex count would be unreadable).
const PHONE_CANDIDATE_RE = /(?<![\w+.])(?:\+|\()?\d(?:[ .\-()]{0,2}\d){6,20}\)?(?![\w]|\.\d|-\d)/g;

const ISO_DATE_RE = /\d{4}-\d{2}-\d{2}/;
const MIN_PHONE_DIGITS = 9;
const MAX_PHONE_DIGITS = 15;

function maskPhone(candidate: string): string {
  const digits = candidate.replace(/\D/g, '').length;
  if (digits < MIN_PHONE_DIGITS || digits > MAX_PHONE_DIGITS) return candidate;
  // Not phone numbers: a decimal (one dot is the only separator) or text holding an ISO date.
  if (candidate.replace(/[\d+]/g, '') === '.') return candidate;
  if (ISO_DATE_RE.test(candidate)) return candidate;
  return PHONE_MASK;
}

/** Masks e-mail addresses, then phone numbers, in one string. */
export function redactText(text: string): string {
  if (text.length === 0) return text;
  let out = text.includes('@') ? text.replace(EMAIL_RE, EMAIL_MASK) : text;
  out = out.replace(PHONE_CANDIDATE_RE, maskPhone);
  return out;
}

/** A redactor that is the identity when redaction is off, so call sites stay branch-free. */
export type Redactor = (text: string) => string;

export function createRedactor(enabled: boolean): Redactor {
  return enabled ? redactText : (text) => text;
}
