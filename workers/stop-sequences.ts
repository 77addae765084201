/**
 * phi-2 is a base model: after its reply it happily writes the next speaker's turn.
 * A reply ends where a new speaker line starts (`\nHuman:`, `\nChatbot:`, `\nAlice:`, `\nInstruct:` …).
 * Text that might still become such a marker is held back until it is decided, so the user never
 * sees half a marker, even when it arrives split across tokens.
 * Markers are found in the folded text (`speaker-fold.ts`), so a disguised speaker line the model
 * writes (`\nНuman:` in Cyrillic, a zero-width joiner inside the name, a full-width colon) ends it too.
 */
import { fold, foldName } from './speaker-fold';

// A speaker name: one to three capitalised words (`Human`, `Chatbot`, `Mary Ann`), then a colon.
export const SPEAKER_NAME = String.raw`[A-Z][A-Za-z'’-]{0,23}(?: [A-Z][A-Za-z'’-]{0,23}){0,2}`;

export const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A chat template's `<|…|>` marker, and the start of one still being written. */
const CHAT_MARKER = String.raw`<\|[^<>|\n]{0,64}\|>`;
const CHAT_MARKER_START = String.raw`<(?:\|[^<>|\n]{0,64}\|?)?$`;

/** A pattern matching every non-empty prefix of `name` and the name itself, so a partial one is held back. */
function prefixes(name: string): string {
  return [...name].reduceRight((rest, char) => `${escapeRegExp(char)}(?:${rest})?`, '');
}

export interface FilterResult {
  /** Text that is now safe to show. */
  text: string;
  /** True once a marker was seen: the reply is over. */
  stopped: boolean;
}

export class StopSequenceFilter {
  private pending = '';
  private emittedAny = false;
  private done = false;
  private readonly marker: RegExp;
  private readonly partial: RegExp;

  /**
   * `speakers`: names beyond the capitalised ones, such as a persona called "bob" or "R2-D2".
   * `anySpeaker: false` ends the reply at those names' lines only: a chat model's reply may well
   * have a line like `Note:`. `markers`: a chat template's special-token strings, which end the
   * reply wherever they appear, as does any `<|…|>` shape (given markers, even none, say the
   * prompt is in a chat template).
   */
  constructor(speakers: readonly string[] = [], { anySpeaker = true, markers }: { anySpeaker?: boolean; markers?: readonly string[] } = {}) {
    const folded = speakers.map(foldName).filter(Boolean);
    const names = [...(anySpeaker ? [SPEAKER_NAME] : []), ...folded.map(escapeRegExp)].join('|');
    const partialNames = [...(anySpeaker ? [SPEAKER_NAME] : []), ...folded.map((s) => prefixes(s))].join('|');
    const line = names ? [String.raw`\n[ \t]*(?:${names})[ \t]*:`] : [];
    const partialLine = String.raw`\n[ \t]*(?:(?:${partialNames})[ \t]*)?$`;
    const ownMarkers = (markers ?? []).map((m) => fold(m).text).filter(Boolean);
    const markerAlternatives = markers ? [...ownMarkers.map(escapeRegExp), CHAT_MARKER] : [];
    const partialMarkers = markers ? [...ownMarkers.map((m) => `${prefixes(m)}$`), CHAT_MARKER_START] : [];
    this.marker = new RegExp([...line, ...markerAlternatives].join('|') || '(?!)');
    this.partial = new RegExp([partialLine, ...partialMarkers].join('|'));
  }

  push(chunk: string): FilterResult {
    if (this.done) return { text: '', stopped: true };
    const buffer = this.pending + chunk;
    const folded = fold(buffer);
    const marker = this.marker.exec(folded.text);
    if (marker) {
      this.done = true;
      this.pending = '';
      return { text: this.clean(buffer.slice(0, folded.origin(marker.index)).trimEnd()), stopped: true };
    }
    const partial = this.partial.exec(folded.text);
    const cut = partial ? folded.origin(partial.index) : buffer.length;
    this.pending = buffer.slice(cut);
    return { text: this.clean(buffer.slice(0, cut)), stopped: false };
  }

  /** The reply ended for another reason (end-of-text, length, Stop): release held text. */
  flush(): string {
    const rest = this.done ? '' : this.pending.trimEnd();
    this.pending = '';
    this.done = true;
    return this.clean(rest);
  }

  // The reply follows `Chatbot:`, so the model starts it with a space; the UI should not show it.
  private clean(text: string): string {
    if (this.emittedAny) return text;
    const trimmed = text.replace(/^\s+/, '');
    if (trimmed) this.emittedAny = true;
    return trimmed;
  }
}
