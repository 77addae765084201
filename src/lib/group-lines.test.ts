import { describe, expect, it } from 'vitest';
import { indexedLinesOf, linesToFold } from './group-lines';
import type { Message, Participant } from './store/types';

const T = Date.UTC(2026, 0, 1);
const alice: Participant = { id: 'p1', name: 'Alice' };
const messages: Message[] = ['one', 'two', 'three', 'four', 'five', 'six'].map((text, i) => ({
  id: `m${i + 1}`,
  conversationId: 'g1',
  role: 'user',
  text,
  speaker: alice,
  createdAt: T + i,
  updatedAt: T + i,
}));
const indexed = indexedLinesOf(messages.slice(0, 5), [alice], 'Chatbot');
const texts = (fold: { lines: { text: string }[] }) => fold.lines.map((l) => l.text);
/** The ids of the messages from `start` on: those the summary does not hold yet. */
const from = (start: number) => new Set(messages.slice(start).map((m) => m.id));

describe('linesToFold: the lines a group reply left out that the summary does not hold yet', () => {
  it('are the lines before the ones the prompt used', () => {
    expect(texts(linesToFold(indexed, 2, from(0)))).toEqual(['one', 'two', 'three']);
  });

  it('leave out what a summary saved after the reply read its lines already folded', () => {
    // The reply read m1–m5 from the memory's start at m1; meanwhile a fold of m1–m2 was saved (start m3).
    expect(texts(linesToFold(indexed, 2, from(2)))).toEqual(['three']);
    expect(linesToFold(indexed, 2, from(3)).lines).toEqual([]);
    expect(linesToFold(indexed, 2, from(5)).lines).toEqual([]);
  });

  it('are none when the prompt used every line', () => {
    expect(linesToFold(indexed, 5, from(0))).toEqual({ lines: [], next: 'm1' });
    expect(linesToFold(indexed, 9, from(0))).toEqual({ lines: [], next: 'm1' });
  });

  it('leave the memory starting at the first line the prompt used', () => {
    expect(linesToFold(indexed, 2, from(0)).next).toBe('m4');
    expect(linesToFold(indexed, 2, from(2)).next).toBe('m4');
    expect(linesToFold(indexed, 0, from(0)).next).toBeUndefined();
  });

  it('skip a line whose message was deleted meanwhile', () => {
    expect(texts(linesToFold(indexed, 2, new Set(['m1', 'm3', 'm4', 'm5'])))).toEqual(['one', 'three']);
  });
});
