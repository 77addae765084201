/**
 * Text that shows nothing: whitespace and characters that are never drawn (zero-width space and
 * joiner, soft hyphen, bidi controls, the Hangul and Braille blanks). A message or title made only of
 * them would look empty.
 */
const INVISIBLE = /^[\s\p{Default_Ignorable_Code_Point}\u2800]*$/u;

export const isInvisible = (text: string) => INVISIBLE.test(text);
