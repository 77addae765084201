import { describe, expect, it } from 'vitest';
import { linesOf, nextSpeaker, speakerNameOf } from '../group-lines';
import { parseImport, toExport, toMarkdown } from './transfer';
import type { Conversation, Message } from './types';

// Times an import accepts: after 2000 and not ahead of now.
const T = Date.UTC(2026, 0, 1);
const group: Conversation = {
  id: 'g1',
  title: 'Trip',
  createdAt: T + 1000,
  updatedAt: T + 4000,
  group: { participants: [{ id: 'p1', name: 'Alice' }, { id: 'p2', name: 'Bob' }] },
};
const decision = { speak: false, modelProbability: 0.1, probability: 0.1, threshold: 0.5, addressed: 'no' as const };
const messages: Message[] = [
  { id: 'm1', conversationId: 'g1', role: 'user', text: 'Train at nine?', speaker: { id: 'p1', name: 'Alice' }, createdAt: T + 2000, updatedAt: T + 2000 },
  { id: 'm2', conversationId: 'g1', role: 'assistant', text: '', status: 'done', stopReason: 'end', decision, createdAt: T + 2001, updatedAt: T + 2001 },
  { id: 'm3', conversationId: 'g1', role: 'user', text: 'Chatbot, how long is the ride?', speaker: { id: 'p3', name: 'Carol' }, createdAt: T + 3000, updatedAt: T + 3000 },
  { id: 'm4', conversationId: 'g1', role: 'assistant', text: 'About an hour.', status: 'done', stopReason: 'end', decision: { ...decision, speak: true, probability: 0.9, addressed: 'question' }, createdAt: T + 3001, updatedAt: T + 3001 },
];
const oneToOne: Conversation = { id: 'c1', title: 'Plain', createdAt: T + 1, updatedAt: T + 2 };

describe('group conversations in export files', () => {
  it('round-trip whole: participants, speakers and decisions', () => {
    const file = toExport([{ conversation: group, messages }], new Date(0));
    const [back] = parseImport(JSON.stringify(file)).conversations;
    expect(back.conversation).toEqual(group);
    expect(back.messages).toEqual(messages);
  });

  it('make the file version 2, which a build from before group chat refuses whole; one-to-one files stay version 1', () => {
    expect(toExport([{ conversation: group, messages }]).version).toBe(2);
    expect(toExport([{ conversation: oneToOne, messages: [] }]).version).toBe(1);
    // What that older build runs on every file: version above its own (1) means "newer", nothing loaded.
    const olderBuildRefuses = (version: number) => version > 1;
    expect(olderBuildRefuses(toExport([{ conversation: group, messages }]).version)).toBe(true);
  });

  it('still import version 1 files, which have no group fields', () => {
    const v1 = { format: 'phi-chat', version: 1, exportedAt: '1970-01-01T00:00:00.000Z', conversations: [{ ...oneToOne, messages: [] }] };
    expect(parseImport(JSON.stringify(v1)).conversations[0].conversation).toEqual(oneToOne);
  });

  it.each([
    ['no participants', { participants: [] }, /must hold 1 to 8 participants/],
    ['nine participants', { participants: Array.from({ length: 9 }, (_, i) => ({ id: `p${i}`, name: `P${i}` })) }, /must hold 1 to 8/],
    ['an empty name', { participants: [{ id: 'p1', name: ' ' }] }, /participants\[0\]\.name is not usable \(A participant needs a name\)/],
    ['a duplicate name', { participants: [{ id: 'p1', name: 'Bob' }, { id: 'p2', name: 'bob' }] }, /already a participant called bob/],
    ['a duplicate id', { participants: [{ id: 'p1', name: 'Bob' }, { id: 'p1', name: 'Ann' }] }, /id appears twice/],
  ])('skips a group with %s, saying why', (_, value, error) => {
    const file = toExport([{ conversation: { ...group, group: value as Conversation['group'] }, messages: [] }]);
    const { conversations, skipped } = parseImport(JSON.stringify(file));
    expect(conversations).toEqual([]);
    expect(skipped[0].reason).toMatch(error);
  });

  it('skips a conversation with a decision that is not one, saying why', () => {
    const file = toExport([{ conversation: group, messages: [{ ...messages[1], decision: { ...decision, probability: 3 } } as Message] }]);
    const { conversations, skipped } = parseImport(JSON.stringify(file));
    expect(conversations).toEqual([]);
    expect(skipped[0].reason).toMatch(/decision\.probability must be a probability/);
  });

  it('write each speaker and each silence in Markdown', () => {
    const markdown = toMarkdown(group, messages);
    expect(markdown).toContain('**Alice**\n\nTrain at nine?\n\n_phi-2 stayed silent_\n\n**Carol**');
  });
});

describe('group lines', () => {
  it('skip silences, keep the name of someone who left, and follow a rename', () => {
    const participants = [{ id: 'p1', name: 'Alicia' }, { id: 'p2', name: 'Bob' }];
    expect(linesOf(messages, participants, 'Chatbot')).toEqual([
      { speaker: 'Alicia', text: 'Train at nine?' },
      { speaker: 'Carol', text: 'Chatbot, how long is the ride?' },
      { speaker: 'Chatbot', text: 'About an hour.', assistant: true },
    ]);
    expect(speakerNameOf({ id: 'p3', name: 'Carol' }, participants)).toBe('Carol');
  });

  it('cycle through speakers both ways', () => {
    const people = group.group!.participants;
    expect(nextSpeaker(people, 'p2', 1)?.id).toBe('p1');
    expect(nextSpeaker(people, 'p1', -1)?.id).toBe('p2');
    expect(nextSpeaker(people, null, 1)?.id).toBe('p1');
  });
});
