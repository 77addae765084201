/**
 * A speaker label can be disguised so that it looks like `Human:` to a reader (and, tokenized, much
 * like it to the model) while failing a plain match: a zero-width joiner inside the name, Cyrillic or
 * Greek look-alike letters, fullwidth forms, combining marks, a no-break space before it. Matching
 * runs on a folded copy of the text instead, which maps each character to what it looks like; the
 * fold keeps, for every folded character, where it came from, so a match can be acted on in the
 * original text.
 *
 * Unicode TR39's full confusables table (as in the `unhomoglyph` package: 6,311 entries, 102 kB) was
 * weighed and left out: its skeletons fold `I` to `l` and `m` to `rn`, which breaks the
 * case-insensitive matching of names, and it covers thousands of symbols that cannot disguise a
 * name. NFKD does the fullwidth, mathematical and enclosed forms and the accents; the table below
 * adds the letters of other scripts that look like Latin ones.
 */

/** Letters of other scripts (Cyrillic, Greek, Armenian, Cherokee, Latin small capitals) drawn like a Latin letter. */
const LOOKALIKES: Record<string, string> = Object.fromEntries(
  [
    // Cyrillic
    'АA ВB СC ЕE НH ІI ЈJ КK МM ОO РP ЅS ТT ХX УY ҮY ӀI ԚQ ԜW ԌG ԀD',
    'аa вb сc еe һh іi јj кk мm нh оo рp ѕs тt уy ӏl ԛq ԝw ԁd ҫc ьb ѡw хx үy',
    // Greek
    'ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX ϜF',
    'αa βb γy ιi κk νv οo ρp τt υu χx ϲc ϳj ϝf',
    // Armenian
    'ՕO ՍU Տs օo սu հh ոn ռn ցg զq',
    // Cherokee
    'ᎪA ᏴB ᏟC ᎠD ᎬE ᏀG ᎻH ᏆJ ᏦK ᏞL ᎷM ᏢP ᏒR ᏚS ᎢT ᏙV ᏔW ᏃZ',
    // Latin small capitals and other Latin letters drawn like a plain one
    'ᴀa ʙb ᴄc ᴅd ᴇe ꜰf ɢg ʜh ɪi ᴊj ᴋk ʟl ᴍm ɴn ᴏo ᴘp ʀr ꜱs ᴛt ᴜu ᴠv ᴡw ʏy ᴢz ıi ȷj ɑa ɡg ƖI',
  ].flatMap((group) => group.split(' ').map((pair) => [...pair] as [string, string])),
);

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const MARK = /\p{M}/u;
const LINE_BREAK = /[\r\v\f\u0085\u2028\u2029]/;
const SPACE = /\s/;

const folds = new Map<string, string>();

function foldChar(char: string): string {
  if (char < '\x80' && !LINE_BREAK.test(char)) return char;
  let folded = folds.get(char);
  if (folded !== undefined) return folded;
  if (IGNORABLE.test(char)) folded = '';
  else if (LINE_BREAK.test(char)) folded = '\n';
  else if (SPACE.test(char)) folded = ' ';
  else {
    folded = '';
    for (const part of char.normalize('NFKD')) if (!MARK.test(part)) folded += LOOKALIKES[part] ?? part;
  }
  folds.set(char, folded);
  return folded;
}

export interface Folded {
  text: string;
  /** Where in the original text the folded text's UTF-16 unit `index` came from. */
  origin(index: number): number;
}

/** Plain ASCII text with no line break but `\n` folds to itself; most text is that, and long. */
const PLAIN = /^[\t\n\x20-\x7e]*$/;
const SPECIAL = /[^\t\n\x20-\x7e]/gu;

/** A character whose fold has another length than it: where the folded text shifts against the original. */
interface Shift {
  folded: number;
  original: number;
  foldedLength: number;
  originalLength: number;
}

/** The text as it looks: invisible characters gone, spaces and line breaks plain, look-alikes Latin. */
export function fold(text: string): Folded {
  if (PLAIN.test(text)) return { text, origin: (index) => index };
  const shifts: Shift[] = [];
  let delta = 0;
  const folded = text.replace(SPECIAL, (char: string, offset: number) => {
    const part = foldChar(char);
    if (part.length !== char.length) {
      shifts.push({ folded: offset + delta, original: offset, foldedLength: part.length, originalLength: char.length });
      delta += part.length - char.length;
    }
    return part;
  });
  return {
    text: folded,
    origin(index) {
      let lo = 0;
      let hi = shifts.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (shifts[mid].folded <= index) lo = mid + 1;
        else hi = mid - 1;
      }
      const shift = shifts[hi];
      if (!shift) return index;
      const end = shift.folded + shift.foldedLength;
      return index < end ? shift.original : shift.original + shift.originalLength + (index - end);
    },
  };
}

/** The folded form of a name, as it is matched. */
export const foldName = (name: string) => fold(name).text.replace(/\s+/g, ' ').trim();
