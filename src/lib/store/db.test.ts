import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { loadMessages, saveAll } from './db.svelte';
import type { Message } from './types';

const messages = (conversationId: string, count: number): Message[] =>
  Array.from({ length: count }, (_, i) => ({ id: crypto.randomUUID(), conversationId, role: 'user', text: `${conversationId} ${i}`, createdAt: i, updatedAt: i }));

describe('loadMessages', () => {
  it('reads a long conversation whole, page after page, and nothing of another', async () => {
    const long = messages('long', 1234);
    const other = messages('other', 7);
    await saveAll([], [...long, ...other]);
    const loaded = await loadMessages('long');
    expect(loaded).toHaveLength(1234);
    expect(new Set(loaded.map((m) => m.id))).toEqual(new Set(long.map((m) => m.id)));
    expect(await loadMessages('other')).toHaveLength(7);
    expect(await loadMessages('none')).toEqual([]);
  });
});
