import { isInvisible } from './visible-text';

/**
 * The longest message the app stores. The composer refuses to send more and an import accepts up to
 * it, so whatever the app has stored, an export of it can be imported again.
 */
export const MAX_MESSAGE_CHARS = 1_000_000;

/** Whether a typed message can be sent: it shows something and is within the limit. */
export const isSendable = (text: string) => !isInvisible(text) && text.trim().length <= MAX_MESSAGE_CHARS;

/** What to tell the user about a message too long to send; null when it is not. */
export function tooLongNote(text: string): string | null {
  const length = text.trim().length;
  if (length <= MAX_MESSAGE_CHARS) return null;
  return `This message has ${length.toLocaleString('en')} characters; at most ${MAX_MESSAGE_CHARS.toLocaleString('en')} can be sent. Shorten it to send it.`;
}
