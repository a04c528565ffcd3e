import { createRedactor, EMAIL_MASK, PHONE_MASK, redactText } from './redaction';

describe('redactText', () => {
  it.each([
    ['jane.doe@example.com', EMAIL_MASK],
    ['write to Jane.Doe+tag@mail.example.co.uk please', `write to ${EMAIL_MASK} please`],
    ['a@b.io, c_d@e-f.org', `${EMAIL_MASK}, ${EMAIL_MASK}`],
  ])('masks e-mail addresses: %s', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it.each([
    ['+1 (555) 123-4567', PHONE_MASK],
    ['call 555-123-4567 now', `call ${PHONE_MASK} now`],
    ['+44 20 7946 0958', PHONE_MASK],
    ['020 7946 0958', PHONE_MASK],
    ['+4915112345678', PHONE_MASK],
    ['06 12 34 56 78', PHONE_MASK],
    ['555.123.4567', PHONE_MASK],
  ])('masks phone numbers: %s', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it.each([
    'on 2025-01-31 it worked',
    'at 2025-01-31T12:00:00Z',
    'rated 4 of 5, 3 times',
    'pi is 3.14159265358',
    'costs 1,234,567 USD',
    'version 1.2.3',
    'call 555-1234', // 7-digit local numbers are deliberately left alone (documented)
    'the year 2024 and 12345678',
    'user@localhost', // no TLD: not an address people type
  ])('leaves non-PII alone: %s', (input) => {
    expect(redactText(input)).toBe(input);
  });

  it('masks several kinds in one text', () => {
    expect(redactText('mail jane@example.com or ring +1 555 123 4567, ticket 2025-02-01')).toBe(
      `mail ${EMAIL_MASK} or ring ${PHONE_MASK}, ticket 2025-02-01`,
    );
  });

  it('is the identity when disabled', () => {
    expect(createRedactor(false)('jane@example.com +1 555 123 4567')).toBe(
      'jane@example.com +1 555 123 4567',
    );
    expect(createRedactor(true)('jane@example.com')).toBe(EMAIL_MASK);
  });
});
