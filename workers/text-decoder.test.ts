import { describe, expect, it } from 'vitest';
import { IncrementalDecoder } from './text-decoder';

// A byte-level "tokenizer": each id is one UTF-8 byte, decoded the way a BPE decoder does.
const bytesDecoder = (ids: number[]) => new TextDecoder().decode(new Uint8Array(ids));

describe('IncrementalDecoder', () => {
  it('never emits a replacement character for a multi-byte character split across tokens', () => {
    const decoder = new IncrementalDecoder(bytesDecoder);
    const bytes = [...new TextEncoder().encode('héllo 👋!')];
    const pieces: string[] = [];
    for (let i = 1; i <= bytes.length; i++) pieces.push(decoder.next(bytes.slice(0, i)));
    expect(pieces.join('')).toBe('héllo 👋!');
    for (const piece of pieces) expect(piece).not.toContain('\uFFFD');
    // The emoji's four bytes arrive as four tokens: nothing shows until the last one.
    expect(pieces.slice(7, 10)).toEqual(['', '', '']);
    expect(pieces[10]).toBe('👋');
  });

  it('drops a byte sequence that never became a character once text follows it', () => {
    const decoder = new IncrementalDecoder(bytesDecoder);
    expect(decoder.next([0xff])).toBe('');
    expect(decoder.next([0xff, 0x41])).toBe('A');
  });
});
