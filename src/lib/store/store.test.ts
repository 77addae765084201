import { afterEach, describe, expect, it, vi } from 'vitest';
import { throttle } from '../throttle';
import { planSchema } from './schema';
import { ImportError, parseImport, planImport, toExport, toMarkdown } from './transfer';
import { titleFrom, type Conversation, type Message } from './types';

const conversation: Conversation = { id: 'c1', title: 'Broken order', createdAt: 1000, updatedAt: 3000 };
const messages: Message[] = [
  { id: 'm2', conversationId: 'c1', role: 'assistant', text: 'Sorry about that!', createdAt: 2001, updatedAt: 2500, status: 'done', stopReason: 'end',
    classification: { probabilities: { support: 0.8, sales: 0.1, joke: 0.1 }, route: 'support' }, engine: 'transformers.js · wasm · fp32', model: 'x' },
  { id: 'm1', conversationId: 'c1', role: 'user', text: 'My order is broken', createdAt: 2000, updatedAt: 2000 },
];
const exported = () => JSON.stringify(toExport([{ conversation, messages }], new Date(0)));

describe('planSchema', () => {
  it('initialises an empty store and accepts the current version', () => {
    expect(planSchema(undefined, false, 1)).toEqual({ action: 'init' });
    expect(planSchema(1, true, 1)).toEqual({ action: 'ok' });
  });
  it('migrates step by step from an older version, or from unversioned data', () => {
    expect(planSchema(1, true, 3)).toEqual({ action: 'migrate', from: 1, steps: [2, 3] });
    expect(planSchema(undefined, true, 2)).toEqual({ action: 'migrate', from: 0, steps: [1, 2] });
  });
  it('never touches data from a newer or unknown version', () => {
    expect(planSchema(7, true, 1)).toEqual({ action: 'read-only', found: 7 });
    expect(planSchema('1', true, 1).action).toBe('read-only');
  });
});

describe('export and import', () => {
  it('round-trips a conversation exactly, in conversation order', () => {
    const [back] = parseImport(exported());
    expect(back.conversation).toEqual(conversation);
    expect(back.messages).toEqual([messages[1], messages[0]]);
  });

  it('writes one conversation as Markdown', () => {
    expect(toMarkdown(conversation, messages)).toContain('# Broken order');
    expect(toMarkdown(conversation, messages)).toMatch(/\*\*You\*\*\n\nMy order is broken\n\n\*\*phi-2\*\* \(support\)\n\nSorry about that!/);
  });

  it.each([
    ['truncated JSON', exported().slice(0, 120), /not valid JSON/],
    ['another app’s file', '{"conversations": []}', /not a Phi Chat export/],
    ['a newer export', exported().replace('"version":1', '"version":99'), /newer version/],
    ['a bad role', exported().replace('"role":"user"', '"role":"system"'), /messages\[0\]\.role must be one of user, assistant/],
    ['an id with odd characters', exported().replace('"id":"c1"', '"id":"../../x"'), /conversations\[0\]\.id has characters/],
    ['a probability out of range', exported().replace('"support":0.8', '"support":8'), /probabilities\.support must be a probability/],
    ['duplicate message ids', exported().replace('"id":"m2"', '"id":"m1"'), /appears twice/],
    ['text that is not text', exported().replace('"text":"My order is broken"', '"text":{"$gt":""}'), /text must be text/],
  ])('rejects %s with a clear message', (_, text, message) => {
    expect(() => parseImport(text)).toThrow(ImportError);
    expect(() => parseImport(text)).toThrow(message);
  });

  it('drops unknown fields, so a hostile file cannot smuggle data in', () => {
    const hostile = exported().replace('"role":"user"', '"role":"user","__proto__":{"polluted":true},"script":"<img onerror=x>"');
    const [back] = parseImport(hostile);
    expect(back.messages[0]).not.toHaveProperty('script');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(back.messages[0])).toBe(Object.prototype);
  });

  it('carries a conversation’s own settings, clamped and stripped like saved ones', () => {
    const file = JSON.parse(exported());
    file.conversations[0].settings = { generation: { temperature: 50, topK: 10 }, persona: { name: 'Bob', description: 'A professor.' }, evil: true };
    const [back] = parseImport(JSON.stringify(file));
    expect(back.conversation.settings?.generation).toMatchObject({ temperature: 2, topK: 10 });
    expect(back.conversation.settings?.persona).toEqual({ name: 'Bob', description: 'A professor.' });
    expect(back.conversation.settings).not.toHaveProperty('evil');
    expect(parseImport(exported())[0].conversation).not.toHaveProperty('settings');
  });

  it('marks a reply exported mid-stream as interrupted', () => {
    const [back] = parseImport(exported().replace('"status":"done"', '"status":"streaming"'));
    expect(back.messages.find((m) => m.id === 'm2')).toMatchObject({ status: 'interrupted' });
  });

  it('merges without clobbering: new conversations whole, only missing messages into existing ones', () => {
    const imported = parseImport(exported());
    const edited = { ...conversation, title: 'Renamed here' };
    const fresh = planImport(imported, new Map());
    expect(fresh).toMatchObject({ newConversations: 1, mergedConversations: 0 });
    expect(fresh.messages).toHaveLength(2);

    const partial = planImport(imported, new Map([['c1', { conversation: edited, messageIds: new Set(['m1']) }]]));
    expect(partial.conversations).toEqual([{ ...edited, updatedAt: 3000 }]);
    expect(partial.messages.map((m) => m.id)).toEqual(['m2']);

    const same = planImport(imported, new Map([['c1', { conversation: edited, messageIds: new Set(['m1', 'm2']) }]]));
    expect(same).toMatchObject({ conversations: [], messages: [], newConversations: 0, mergedConversations: 0 });
  });
});

describe('titleFrom', () => {
  it('uses the first line, cut at a word', () => {
    expect(titleFrom('  Hello there\nsecond line')).toBe('Hello there');
    expect(titleFrom('word '.repeat(30))).toMatch(/^(word ){10,}?word…$/);
    expect(titleFrom('   ')).toBe('New chat');
  });
});

describe('throttle', () => {
  afterEach(() => vi.useRealTimers());
  it('runs at most once per interval, always after the latest call, and flushes on demand', () => {
    vi.useFakeTimers();
    const task = vi.fn();
    const saver = throttle(task, 300);
    for (let i = 0; i < 100; i++) {
      saver.schedule();
      vi.advanceTimersByTime(10);
    }
    // 1000 ms of calls every 10 ms: about 1000 / 300 writes, not 100.
    expect(task.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(task.mock.calls.length).toBeLessThanOrEqual(4);
    saver.schedule();
    saver.flush();
    const count = task.mock.calls.length;
    vi.advanceTimersByTime(1000);
    expect(task.mock.calls.length).toBe(count);
  });
});
