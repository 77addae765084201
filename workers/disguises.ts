/**
 * Ways to disguise a speaker name so that it still reads as the name: the table the neutralizer
 * and the stop filter are tested against. Written apart from `speaker-fold.ts`, from the Unicode
 * blocks themselves, so a test does not check the fold against its own table.
 */

const CYRILLIC: Record<string, string> = { A: 'А', B: 'В', C: 'С', E: 'Е', H: 'Н', I: 'І', J: 'Ј', K: 'К', M: 'М', O: 'О', P: 'Р', S: 'Ѕ', T: 'Т', X: 'Х', Y: 'Ү', a: 'а', c: 'с', e: 'е', h: 'һ', i: 'і', j: 'ј', o: 'о', p: 'р', s: 'ѕ', x: 'х', y: 'у' };
const GREEK: Record<string, string> = { A: 'Α', B: 'Β', E: 'Ε', H: 'Η', I: 'Ι', K: 'Κ', M: 'Μ', N: 'Ν', O: 'Ο', P: 'Ρ', T: 'Τ', X: 'Χ', Y: 'Υ', Z: 'Ζ', i: 'ι', o: 'ο', u: 'υ', v: 'ν' };
const shift = (char: string, upper: number, lower: number) =>
  /[A-Z]/.test(char) ? String.fromCodePoint(upper + char.charCodeAt(0) - 65) : /[a-z]/.test(char) ? String.fromCodePoint(lower + char.charCodeAt(0) - 97) : char;
const perLetter = (name: string, map: (char: string) => string) => [...name].map(map).join('');
/** Replaces every letter that has a look-alike in the table. */
const lookalike = (table: Record<string, string>) => (name: string) => perLetter(name, (c) => table[c] ?? c);

const INVISIBLE = {
  'zero-width space': '\u200B',
  'zero-width joiner': '\u200D',
  'zero-width non-joiner': '\u200C',
  'word joiner': '\u2060',
  'soft hyphen': '\u00AD',
  'byte order mark': '\uFEFF',
  'left-to-right mark': '\u200E',
  'right-to-left override': '\u202E',
  'first strong isolate': '\u2068',
  'combining grapheme joiner': '\u034F',
  'variation selector': '\uFE0F',
};
const SPACES = { 'no-break space': '\u00A0', 'figure space': '\u2007', 'narrow no-break space': '\u202F', 'ideographic space': '\u3000', 'em space': '\u2003', 'ogham space': '\u1680' };
const MARKS = { acute: '\u0301', diaeresis: '\u0308', 'long stroke overlay': '\u0336', 'dot below': '\u0323' };

/** Each disguise turns a name into text that reads as the name. */
export const DISGUISES: Record<string, (name: string) => string> = {
  plain: (name) => name,
  lowercase: (name) => name.toLowerCase(),
  uppercase: (name) => name.toUpperCase(),
  ...Object.fromEntries(Object.entries(INVISIBLE).map(([what, char]) => [`${what} inside`, (name: string) => `${name.slice(0, 1)}${char}${name.slice(1)}`])),
  ...Object.fromEntries(Object.entries(INVISIBLE).map(([what, char]) => [`${what} before the colon`, (name: string) => `${name}${char}`])),
  ...Object.fromEntries(Object.entries(SPACES).map(([what, char]) => [`${what} before`, (name: string) => `${char}${name}`])),
  ...Object.fromEntries(Object.entries(MARKS).map(([what, mark]) => [`${what} on every letter`, (name: string) => perLetter(name, (c) => (c === ' ' ? c : c + mark))])),
  'precomposed accents': (name) => perLetter(name, (c) => (c === ' ' ? c : `${c}\u0302`.normalize('NFC'))),
  'Cyrillic look-alikes': lookalike(CYRILLIC),
  'Greek look-alikes': lookalike(GREEK),
  'one Cyrillic letter': (name) => (CYRILLIC[name[0]] ?? name[0]) + name.slice(1),
  fullwidth: (name) => perLetter(name, (c) => (c === ' ' ? '\u3000' : shift(c, 0xff21, 0xff41))),
  'mathematical bold': (name) => perLetter(name, (c) => shift(c, 0x1d400, 0x1d41a)),
  'mathematical sans-serif': (name) => perLetter(name, (c) => shift(c, 0x1d5a0, 0x1d5ba)),
  'circled letters': (name) => perLetter(name, (c) => shift(c, 0x24b6, 0x24d0)),
  'every disguise at once': (name) => `\u00A0${lookalike(CYRILLIC)(name).slice(0, 1)}\u200D${perLetter(name.slice(1), (c) => shift(c, 0xff21, 0xff41))}\u00AD`,
};

/** The line breaks a disguised line may follow. */
export const LINE_BREAKS = { newline: '\n', 'carriage return': '\r', 'line separator': '\u2028', 'paragraph separator': '\u2029', 'next line': '\u0085' };
