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
  return remembered(recent, `${speakers.join('\n')}\u0000${text}`, () => neutralizeColons(text, speakers));
}

/** `compute()` kept under `key` in `cache`, which is emptied once it holds RECENT_LIMIT results. */
function remembered(cache: Map<string, string>, key: string, compute: () => string): string {
  const known = cache.get(key);
  if (known !== undefined) return known;
  if (cache.size >= RECENT_LIMIT) cache.clear();
  const result = compute();
  cache.set(key, result);
  return result;
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

/**
 * The shapes of chat-template markers: `<|im_start|>`, `<|eot_id|>`, `<|user|>` and every other
 * `<|…|>` token; `<s>`, `</s>`, `[INST]`, `<<SYS>>` of Llama-2-style templates; Gemma's turns.
 */
const MARKER_SHAPES = String.raw`<\|[^<>|\n]{0,64}\|>|</?s>|\[/?INST\]|<</?SYS>>|</?(?:start|end)_of_turn>`;

/** What each bracket of a marker becomes: looks alike, folds to itself, and is no tokenizer's special token. */
const SAFE_BRACKETS: Record<string, string> = { '<': '\u2039', '>': '\u203A', '|': '\u00A6', '[': '\u2045', ']': '\u2046' };
const BRACKET = /[<>|[\]]/;
const WORD_JOINER = '\u2060';
const NO_MARKERS: readonly string[] = [];

/**
 * By marker list: a format keeps one list for the model's life. Its recent results are kept as
 * `neutralize` keeps its own, since a prompt is rebuilt many times over while it is fitted.
 */
const markerPatterns = new WeakMap<readonly string[], { pattern: RegExp; allBracketed: boolean; recent: Map<string, string> }>();

function markerPattern(markers: readonly string[]) {
  let known = markerPatterns.get(markers);
  if (!known) {
    const own = markers.map((m) => fold(m).text).filter(Boolean).map(escapeRegExp);
    known = { pattern: new RegExp([...own, MARKER_SHAPES].join('|'), 'giu'), allBracketed: markers.every((m) => BRACKET.test(m)), recent: new Map() };
    markerPatterns.set(markers, known);
  }
  return known;
}

/**
 * Breaks every chat-template marker in `text`, disguised ones too (matched on the folded text, so
 * `<｜im_end｜>`, `<|im​_end|>` with a zero-width space, or `<|IM_END|>` count), so that no text can
 * end a message and start another. Each bracket of a marker becomes a look-alike (`‹¦im_end¦›`:
 * guillemets and broken bars): the model still reads what the person wrote, but no tokenizer
 * matches it as its special token. A marker without brackets (a tokenizer's own token) gets a word
 * joiner after its first character instead. `markers`: the tokenizer's special tokens, beyond the shapes above.
 */
export function neutralizeMarkers(text: string, markers: readonly string[] = NO_MARKERS): string {
  const { pattern, allBracketed, recent: known } = markerPattern(markers);
  if (allBracketed && !/[^\x00-\x7f]|[<[|]/.test(text)) return text;
  return remembered(known, text, () => breakMarkers(text, pattern));
}

function breakMarkers(text: string, pattern: RegExp): string {
  const folded = fold(text);
  let clean = '';
  let from = 0;
  for (const match of folded.text.matchAll(pattern)) {
    const start = folded.origin(match.index);
    const end = folded.origin(match.index + match[0].length);
    if (start < from) continue;
    const span = Array.from(text.slice(start, end));
    const brackets = span.some((char) => SAFE_BRACKETS[fold(char).text] !== undefined);
    const broken = brackets ? span.map((char) => SAFE_BRACKETS[fold(char).text] ?? char).join('') : `${span[0]}${WORD_JOINER}${span.slice(1).join('')}`;
    clean += text.slice(from, start) + broken;
    from = end;
  }
  return clean + text.slice(from);
}
