/**
 * phi-2 is a base model: after its reply it happily writes the next speaker's turn.
 * A reply ends where a new speaker line starts (`\nHuman:`, `\nChatbot:`, `\nAlice:`, `\nInstruct:` …).
 * Text that might still become such a marker is held back until it is decided, so the user never
 * sees half a marker, even when it arrives split across tokens.
 */

// A speaker name: one to three capitalised words (`Human`, `Chatbot`, `Mary Ann`), then a colon.
const NAME = String.raw`[A-Z][A-Za-z'’-]{0,23}(?: [A-Z][A-Za-z'’-]{0,23}){0,2}`;
const MARKER = new RegExp(String.raw`\n[ \t]*${NAME}:`);
// A line start that could still grow into a marker with more text.
const PARTIAL = new RegExp(String.raw`\n[ \t]*(?:${NAME})?$`);

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

  push(chunk: string): FilterResult {
    if (this.done) return { text: '', stopped: true };
    const buffer = this.pending + chunk;
    const marker = MARKER.exec(buffer);
    if (marker) {
      this.done = true;
      this.pending = '';
      return { text: this.clean(buffer.slice(0, marker.index).trimEnd()), stopped: true };
    }
    const partial = PARTIAL.exec(buffer);
    const cut = partial ? partial.index : buffer.length;
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
