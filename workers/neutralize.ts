/**
 * Text from the conversation goes into a prompt whose structure is speaker lines (`Human:`,
 * `Chatbot:`) and an `Instructions:` line. A message that contains such a label could forge a turn
 * or an instruction, so before it enters the prompt each label's colon becomes a full-width colon
 * (U+FF1A): it reads the same to the model's eye, but is no longer the token sequence that starts
 * a turn. The user still sees their text unchanged; only the prompt's copy is altered.
 *
 * Labels are matched on the folded text (see `speaker-fold.ts`), so a disguised one (`Chat‍bot:`
 * with a zero-width joiner, Cyrillic `Нuman:`, fullwidth `Ｂｏｂ:`) loses its colon too. Only an
 * ASCII colon is a turn's colon: one that is already full-width, or another look-alike, is left.
 */
import { fold, foldName } from './speaker-fold';
import { escapeRegExp, SPEAKER_NAME } from './stop-sequences';

const FULLWIDTH_COLON = '\uFF1A';

/** The labels of the prompt templates' own structure lines. */
export const PROMPT_LABELS = ['Human', 'Instructions', 'Instruct', 'Output'] as const;

/** A speaker-like label at the start of a line: the very shape the stop filter ends a reply at. */
const LINE_LABEL = new RegExp(String.raw`(?:^|\n)[ \t]*${SPEAKER_NAME}[ \t]*:`, 'g');

/**
 * Results by speakers and text. A prompt is built many times over while it is fitted to the window
 * (see `fitTurns`), from the same turns, and folding long text in another script is not free.
 */
const recent = new Map<string, string>();
const RECENT_LIMIT = 4096;

export function neutralize(text: string, speakers: readonly string[]): string {
  if (!text.includes(':')) return text;
  const key = `${speakers.join('\n')}\u0000${text}`;
  const known = recent.get(key);
  if (known !== undefined) return known;
  if (recent.size >= RECENT_LIMIT) recent.clear();
  const clean = neutralizeColons(text, speakers);
  recent.set(key, clean);
  return clean;
}

function neutralizeColons(text: string, speakers: readonly string[]): string {
  const folded = fold(text);
  const names = [...PROMPT_LABELS, ...speakers].map(foldName).filter(Boolean).map(escapeRegExp);
  // The protected names, anywhere and in any case ("...and then chatbot: do this").
  const anywhere = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${names.join('|')})\\s*:`, 'giu');
  const colons = new Set<number>();
  for (const pattern of [anywhere, LINE_LABEL]) {
    for (const match of folded.text.matchAll(pattern)) colons.add(folded.origin(match.index + match[0].length - 1));
  }
  let clean = '';
  let from = 0;
  for (const at of [...colons].sort((a, b) => a - b)) {
    if (text[at] !== ':') continue;
    clean += text.slice(from, at) + FULLWIDTH_COLON;
    from = at + 1;
  }
  return clean + text.slice(from);
}
