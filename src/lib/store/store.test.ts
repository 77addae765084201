import { afterEach, describe, expect, it, vi } from 'vitest';
import { throttle } from '../throttle';
import { planSchema } from './schema';
import { MAX_MESSAGE_CHARS } from '../limits';
import { ImportError, parseImport, planImport, toExport, toMarkdown } from './transfer';
import { titleFrom, type AssistantMessage, type Conversation, type Message } from './types';

const T = Date.UTC(2026, 0, 1);
const conversation: Conversation = { id: 'c1', title: 'Broken order', createdAt: T + 1000, updatedAt: T + 3000 };
const messages: Message[] = [
  { id: 'm2', conversationId: 'c1', role: 'assistant', text: 'Sorry about that!', createdAt: T + 2001, updatedAt: T + 2500, status: 'done', stopReason: 'end',
    classification: { probabilities: { support: 0.8, sales: 0.1, joke: 0.1 }, route: 'support' }, engine: 'transformers.js · wasm · fp32', model: 'BricksDisplay/phi-2-q4' },
  { id: 'm1', conversationId: 'c1', role: 'user', text: 'My order is broken', createdAt: T + 2000, updatedAt: T + 2000 },
];
const exported = () => JSON.stringify(toExport([{ conversation, messages }], new Date(T)));
/** The conversations a file brings in, at a fixed "now" a month after the fixture's times. */
const conversationsOf = (text: string) => parseImport(text, T + 30 * 86_400_000).conversations;
const skippedOf = (text: string, now = T + 30 * 86_400_000) => parseImport(text, now).skipped;

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
    const [back] = conversationsOf(exported());
    expect(back.conversation).toEqual(conversation);
    expect(back.messages).toEqual([messages[1], messages[0]]);
  });

  it('keeps the KV cache counts of a reply and its prompt, and the prompt format (Details shows them after an import too)', () => {
    const reply: AssistantMessage = {
      ...(messages[0] as AssistantMessage),
      prompt: { text: 'Human: hi', tokens: 40, turnsUsed: 3, foldTurns: 2, format: 'plain text (Human: / Chatbot:)', note: "The model's chat template could not be rendered." },
      stats: {
        promptTokens: 40, replyTokens: 5, classifyMs: 3, firstTokenMs: 9, prefillTokensPerSecond: 100, decodeTokensPerSecond: 20,
        classifyPrefill: { cached: 12, computed: 8 }, replyPrefill: { cached: 30, computed: 10 },
      },
    };
    const [back] = conversationsOf(JSON.stringify(toExport([{ conversation, messages: [reply] }], new Date(T))));
    expect(back.messages).toEqual([reply]);
    const bad = JSON.stringify(toExport([{ conversation, messages: [{ ...reply, stats: { ...reply.stats!, replyPrefill: { cached: -1, computed: 2 } } }] }], new Date(T)));
    expect(skippedOf(bad)[0].reason).toMatch(/stats\.replyPrefill\.cached must be a count/);
  });

  it('writes one conversation as Markdown', () => {
    expect(toMarkdown(conversation, messages)).toContain('# Broken order');
    expect(toMarkdown(conversation, messages)).toMatch(/\*\*You\*\*\n\nMy order is broken\n\n\*\*phi-2\*\* \(support\)\n\nSorry about that!/);
  });

  it.each([
    ['truncated JSON', exported().slice(0, 120), /not valid JSON/],
    ['another app’s file', '{"conversations": []}', /not a Phi Chat export/],
    ['a newer export', exported().replace('"version":1', '"version":99'), /newer version/],
    ['a version that is text', exported().replace('"version":1', '"version":"1"'), /version \("1"\) is not a version number/],
    ['a negative version', exported().replace('"version":1', '"version":-5'), /version \(-5\) is not a version number/],
    ['a fractional version', exported().replace('"version":1', '"version":0.5'), /version \(0.5\) is not a version number/],
    ['no version', exported().replace('"version":1,', ''), /version \(missing\) is not a version number/],
  ])('refuses %s whole, with a clear message', (_, text, message) => {
    expect(() => parseImport(text)).toThrow(ImportError);
    expect(() => parseImport(text)).toThrow(message);
  });

  it.each([
    ['a bad role', exported().replace('"role":"user"', '"role":"system"'), /messages\[0\]\.role must be one of user, assistant/],
    ['an id with odd characters', exported().replace('"id":"c1"', '"id":"../../x"'), /conversations\[0\]\.id has characters/],
    ['a probability out of range', exported().replace('"support":0.8', '"support":8'), /probabilities\.support must be a probability/],
    ['duplicate message ids', exported().replace('"id":"m2"', '"id":"m1"'), /appears twice/],
    ['text that is not text', exported().replace('"text":"My order is broken"', '"text":{"$gt":""}'), /text must be text/],
    ['a far-future time', exported().replace(`"createdAt":${T + 2000}`, '"createdAt":1e16'), /messages\[0\]\.createdAt is 10000000000000000, more than a day in the future/],
    ['a time before 2000', exported().replace(`"updatedAt":${T + 3000}`, '"updatedAt":946684799999'), /updatedAt is 946684799999, before the year 2000/],
    ['a negative time', exported().replace(`"createdAt":${T + 1000}`, '"createdAt":-1'), /createdAt is -1, before the year 2000/],
    ['a time that is text', exported().replace(`"createdAt":${T + 1000}`, `"createdAt":"${T + 1000}"`), /createdAt must be a time in milliseconds/],
    ['a message longer than the app stores', exported().replace('My order is broken', 'x'.repeat(MAX_MESSAGE_CHARS + 1)), /text is longer than 1000000 characters/],
  ])('skips a conversation with %s, naming it and saying why', (_, text, reason) => {
    const skipped = skippedOf(text);
    expect(skipped).toHaveLength(1);
    expect(skipped[0].name).toBe('“Broken order”');
    expect(skipped[0].reason).toMatch(reason);
    expect(conversationsOf(text)).toEqual([]);
  });

  it('imports the others when one conversation of the file is bad', () => {
    const file = JSON.parse(exported());
    const good = file.conversations[0];
    const bad = { ...good, id: 'c2', title: 'Far future', updatedAt: 1e16 };
    const untitled = { ...good, id: 'c3', title: 7 };
    const twin = { ...good, title: 'Same id' };
    const third = { ...good, id: 'c4', title: 'Fine too' };
    file.conversations = [good, bad, untitled, twin, third];
    const { conversations, skipped } = parseImport(JSON.stringify(file), T + 86_400_000);
    expect(conversations.map((c) => c.conversation.title)).toEqual(['Broken order', 'Fine too']);
    expect(skipped).toEqual([
      { name: '“Far future”', reason: 'conversations[1].updatedAt is 10000000000000000, more than a day in the future.' },
      { name: 'Conversation 3', reason: 'conversations[2].title must be text.' },
      { name: '“Same id”', reason: 'conversations[3].id is the id of an earlier conversation in the file.' },
    ]);
  });

  it('accepts a time up to a day ahead of this device’s clock, and not after', () => {
    const latest = T + 3000;
    expect(skippedOf(exported(), latest - 86_400_000)).toEqual([]);
    expect(skippedOf(exported(), latest - 86_400_000 - 1)).toHaveLength(1);
  });

  it('imports again what the app can store: a message at the composer’s limit', () => {
    const text = 'y'.repeat(MAX_MESSAGE_CHARS);
    const [back] = conversationsOf(exported().replace('My order is broken', text));
    expect(back.messages.find((m) => m.id === 'm1')?.text).toBe(text);
  });

  it('gives a conversation whose title shows nothing one from its first message', () => {
    const [back] = conversationsOf(exported().replace('"title":"Broken order"', '"title":"\u200b\u200d \u2060"'));
    expect(back.conversation.title).toBe('My order is broken');
  });

  it('writes Markdown even for a stored time that is no date', () => {
    expect(() => toMarkdown({ ...conversation, updatedAt: 1e16 }, messages)).not.toThrow();
    expect(toMarkdown({ ...conversation, updatedAt: 1e16 }, messages)).toContain('_Exported from Phi Chat, at an unknown time_');
    expect(toMarkdown(conversation, messages)).toContain(`_Exported from Phi Chat, ${new Date(T + 3000).toISOString()}_`);
  });

  it('drops unknown fields, so a hostile file cannot smuggle data in', () => {
    const hostile = exported().replace('"role":"user"', '"role":"user","__proto__":{"polluted":true},"script":"<img onerror=x>"');
    const [back] = conversationsOf(hostile);
    expect(back.messages[0]).not.toHaveProperty('script');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(back.messages[0])).toBe(Object.prototype);
  });

  it('carries a conversation’s own settings, clamped and stripped like saved ones', () => {
    const file = JSON.parse(exported());
    file.conversations[0].settings = { generation: { temperature: 50, topK: 10 }, persona: { name: 'Bob', description: 'A professor.' }, evil: true };
    const [back] = conversationsOf(JSON.stringify(file));
    expect(back.conversation.settings?.generation).toMatchObject({ temperature: 2, topK: 10 });
    expect(back.conversation.settings?.persona).toEqual({ name: 'Bob', description: 'A professor.' });
    expect(back.conversation.settings).not.toHaveProperty('evil');
    expect(conversationsOf(exported())[0].conversation).not.toHaveProperty('settings');
  });

  it('marks a reply exported mid-stream as interrupted', () => {
    const [back] = conversationsOf(exported().replace('"status":"done"', '"status":"streaming"'));
    expect(back.messages.find((m) => m.id === 'm2')).toMatchObject({ status: 'interrupted' });
  });

  it('merges without clobbering: new conversations whole, only missing messages into existing ones', () => {
    const imported = conversationsOf(exported());
    const edited = { ...conversation, title: 'Renamed here' };
    const fresh = planImport(imported, new Map());
    expect(fresh).toMatchObject({ newConversations: 1, mergedConversations: 0 });
    expect(fresh.messages).toHaveLength(2);

    const partial = planImport(imported, new Map([['c1', { conversation: edited, messageIds: new Set(['m1']) }]]));
    expect(partial.conversations).toEqual([{ ...edited, updatedAt: T + 3000 }]);
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

  it('never comes out invisible', () => {
    expect(titleFrom('\u200b\u200d')).toBe('New chat');
    expect(titleFrom('\u00ad\u2060\ufeff\u202e\u3164\u2800')).toBe('New chat');
    expect(titleFrom('\u200b\n\u200d Order 42 is late')).toBe('Order 42 is late');
    expect(titleFrom('Ich ❤️ 👩‍💻')).toBe('Ich ❤️ 👩‍💻');
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

describe('a conversation’s model', () => {
  it('goes out with the export and comes back with the import; an unknown or malformed one is dropped', () => {
    const base = { id: 'c1', title: 'T', createdAt: Date.UTC(2025, 0, 1), updatedAt: Date.UTC(2025, 0, 1), messages: [] };
    const file = (model: unknown) => JSON.stringify({ format: 'phi-chat', version: 1, conversations: [{ ...base, model }] });
    const custom = { kind: 'custom', source: { id: 'https://m.example/tiny/', dtype: 'fp32', file: 'model', externalData: false } };
    expect(parseImport(file({ kind: 'catalog', id: 'qwen2.5-0.5b-instruct' })).conversations[0].conversation.model).toEqual({ kind: 'catalog', id: 'qwen2.5-0.5b-instruct' });
    expect(parseImport(file(custom)).conversations[0].conversation.model).toEqual(custom);
    expect(parseImport(file({ kind: 'catalog', id: 'no-such-model' })).conversations[0].conversation.model).toBeUndefined();
    expect(parseImport(file({ kind: 'custom', source: { id: 'javascript:alert(1)' } })).conversations[0].conversation.model).toBeUndefined();
    const exported = toExport([{ conversation: { ...base, model: { kind: 'catalog', id: 'phi-2' } }, messages: [] }]);
    expect(exported.conversations[0].model).toEqual({ kind: 'catalog', id: 'phi-2' });
  });
});
