import { describe, expect, it } from 'vitest';
import { IncrementalDecoder } from './text-decoder';

// A byte-level "tokenizer": each id is one UTF-8 byte, decoded the way a BPE decoder does. Like
// transformers.js's, it refuses an empty list.
const bytesDecoder = (ids: number[]) => {
  if (ids.length === 0) throw new Error('token_ids must be a non-empty array of integers.');
  return new TextDecoder().decode(new Uint8Array(ids));
};

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

  it('decodes a short window each step, not the whole reply, and gives the same text', () => {
    const lengths: number[] = [];
    const decoder = new IncrementalDecoder((ids) => {
      lengths.push(ids.length);
      return bytesDecoder(ids);
    });
    const bytes = [...new TextEncoder().encode('Grüße, 世界! '.repeat(100))];
    let text = '';
    for (let i = 1; i <= bytes.length; i++) text += decoder.next(bytes.slice(0, i));
    expect(text).toBe('Grüße, 世界! '.repeat(100));
    // A split character keeps at most its own bytes and the last step's in the window.
    expect(Math.max(...lengths)).toBeLessThanOrEqual(6);
  });

  it('keeps the spacing a tokenizer gives a word from the word before it', () => {
    // SentencePiece-style: "▁" marks a space, and a space at the very start of the text is dropped.
    const words = ['▁Hello', ',', '▁world', '▁and', '▁you'];
    const decode = (ids: number[]) => ids.map((id) => words[id]).join('').replaceAll('▁', ' ').replace(/^ /, '');
    const decoder = new IncrementalDecoder(decode);
    const pieces = words.map((_, i) => decoder.next([...words.keys()].slice(0, i + 1)));
    expect(pieces).toEqual(['Hello', ',', ' world', ' and', ' you']);
  });
});
