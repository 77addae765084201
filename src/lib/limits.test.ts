import { describe, expect, it } from 'vitest';
import { isSendable, MAX_MESSAGE_CHARS, tooLongNote } from './limits';
import { isInvisible } from './visible-text';

describe('a message that can be sent', () => {
  it.each([
    ['zero-width space and joiner', '\u200B\u200D'],
    ['soft hyphens and word joiners', '\u00AD\u2060\u00AD'],
    ['bidi controls', '\u202E\u2066\u2069\u200E'],
    ['a byte order mark and spaces', ' \uFEFF\u00A0\u3000\n'],
    ['Hangul and Braille blanks', '\u3164\u2800\u115F'],
    ['nothing', ''],
  ])('is not one of only %s', (_, text) => {
    expect(isInvisible(text)).toBe(true);
    expect(isSendable(text)).toBe(false);
  });

  it('is one that shows something, however little', () => {
    for (const text of ['hi', '\u200Bx', '👩‍💻', '.', 'é']) expect(isSendable(text)).toBe(true);
  });

  it('is at most the limit an import accepts, with a note beyond it', () => {
    expect(isSendable('a'.repeat(MAX_MESSAGE_CHARS))).toBe(true);
    expect(tooLongNote('a'.repeat(MAX_MESSAGE_CHARS))).toBeNull();
    expect(isSendable('a'.repeat(MAX_MESSAGE_CHARS + 1))).toBe(false);
    expect(tooLongNote('a'.repeat(MAX_MESSAGE_CHARS + 1))).toBe('This message has 1,000,001 characters; at most 1,000,000 can be sent. Shorten it to send it.');
  });
});
