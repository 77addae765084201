/**
 * Byte-level BPE splits multi-byte characters across tokens; decoding a prefix then ends in U+FFFD.
 * The decoder holds text back while it ends in a replacement character, so `�` never reaches the
 * screen while the rest of the character is still on its way.
 *
 * Each step decodes only a short window, not the whole reply: the tokens already shown in the last
 * step (`prefixStart` to `readStart`, the context a tokenizer needs to space the next word right)
 * and the new ones after them. The new text is what the whole window adds to that context.
 */
export class IncrementalDecoder {
  private prefixStart = 0;
  private readStart = 0;

  constructor(private readonly decode: (ids: number[]) => string) {}

  /** The new text that all `ids` so far add, withholding an incomplete character at the end. */
  next(ids: number[]): string {
    const shown = this.decodeSome(ids.slice(this.prefixStart, this.readStart));
    const text = this.decodeSome(ids.slice(this.prefixStart));
    if (text.length <= shown.length || text.endsWith('\uFFFD')) return '';
    this.prefixStart = this.readStart;
    this.readStart = ids.length;
    // A replacement character followed by more text is a byte sequence that never became a character.
    return text.slice(shown.length).replaceAll('\uFFFD', '');
  }

  /** Tokenizers refuse an empty list (transformers.js throws), and it decodes to nothing anyway. */
  private decodeSome(ids: number[]) {
    return ids.length === 0 ? '' : this.decode(ids);
  }
}
