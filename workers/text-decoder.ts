/**
 * Byte-level BPE splits multi-byte characters across tokens; decoding a prefix then ends in U+FFFD.
 * Decoding the whole reply each step and only releasing text up to a trailing replacement character
 * keeps `�` off the screen while the rest of the character is still on its way.
 */
export class IncrementalDecoder {
  private emitted = 0;

  constructor(private readonly decode: (ids: number[]) => string) {}

  /** The new text that all `ids` so far add, withholding an incomplete character at the end. */
  next(ids: number[]): string {
    let text = this.decode(ids);
    let end = text.length;
    while (end > this.emitted && text.charCodeAt(end - 1) === 0xfffd) end--;
    const fresh = text.slice(this.emitted, end);
    this.emitted = end;
    // A replacement character followed by more text is a byte sequence that never became a character.
    return fresh.replaceAll('\uFFFD', '');
  }
}
