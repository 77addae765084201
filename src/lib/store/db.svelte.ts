import { createStore, del, delMany, get, promisifyRequest, set, setMany, values } from 'idb-keyval';
import { MIGRATIONS, planSchema, type SchemaPlan } from './schema';
import { SCHEMA_VERSION, type Conversation, type Message } from './types';

/**
 * Conversations live in IndexedDB through idb-keyval (a .svelte.ts module: it snapshots reactive
 * state, which structured cloning cannot copy). Each message has a key of its own,
 * `[conversationId, messageId]`, so two tabs adding to one conversation never overwrite each other.
 */
const conversationStore = createStore('phi-chat-conversations', 'conversations');
const messageStore = createStore('phi-chat-messages', 'messages');
const metaStore = createStore('phi-chat-meta', 'meta');

export type Change = { conversationId: string | null };

/**
 * One channel per tab for sending and receiving: a BroadcastChannel never hears its own messages,
 * but it does hear other instances in the same tab, which would echo every save back here.
 */
const changes = new BroadcastChannel('phi-chat-changes');

/** Tells the other tabs that a conversation (or the list, for null) changed. */
function announce(conversationId: string | null) {
  changes.postMessage({ conversationId } satisfies Change);
}

export function onOtherTabChange(listener: (change: Change) => void) {
  changes.onmessage = (event: MessageEvent<Change>) => listener(event.data);
}

/** Opens the stored data at the current schema; a newer schema is left untouched (read-only). */
export async function openStore(): Promise<SchemaPlan> {
  const stored = await get('schema', metaStore);
  const hasData = (await conversationCount()) > 0;
  const plan = planSchema(stored, hasData);
  if (plan.action === 'init') await set('schema', SCHEMA_VERSION, metaStore);
  if (plan.action === 'migrate') {
    for (const version of plan.steps) {
      await MIGRATIONS[version]?.();
      await set('schema', version, metaStore);
    }
  }
  return plan;
}

const conversationCount = () => conversationStore('readonly', (store) => promisifyRequest(store.count()));

export async function listConversations(): Promise<Conversation[]> {
  const all = await values<Conversation>(conversationStore);
  return all.sort((a, b) => b.updatedAt - a.updatedAt);
}

const range = (conversationId: string) => IDBKeyRange.bound([conversationId], [conversationId, []]);

/** Messages read per request when opening a conversation. */
const MESSAGE_PAGE = 250;

/**
 * A conversation's messages, read a page at a time: each page arrives in a task of its own, so
 * opening one of thousands of messages never holds the page up in one long task.
 */
export function loadMessages(conversationId: string): Promise<Message[]> {
  return messageStore('readonly', async (store) => {
    const messages: Message[] = [];
    let keys = range(conversationId);
    for (;;) {
      const page = await promisifyRequest(store.getAll(keys, MESSAGE_PAGE) as IDBRequest<Message[]>);
      messages.push(...page);
      if (page.length < MESSAGE_PAGE) return messages;
      keys = IDBKeyRange.bound([conversationId, page.at(-1)!.id], [conversationId, []], true);
    }
  });
}

export function loadAllMessages(): Promise<Message[]> {
  return values<Message>(messageStore);
}

export async function saveConversation(conversation: Conversation) {
  await set(conversation.id, $state.snapshot(conversation), conversationStore);
  announce(conversation.id);
}

export async function saveMessage(message: Message) {
  await set([message.conversationId, message.id], $state.snapshot(message), messageStore);
  announce(message.conversationId);
}

export async function deleteConversation(conversationId: string) {
  const keys = await messageStore('readonly', (store) => promisifyRequest(store.getAllKeys(range(conversationId))));
  await delMany(keys, messageStore);
  await del(conversationId, conversationStore);
  announce(null);
}

export async function deleteMessages(conversationId: string, messageIds: readonly string[]) {
  await delMany(messageIds.map((id) => [conversationId, id]), messageStore);
  announce(conversationId);
}

/** Writes a whole set of conversations and messages (an import, or an undone delete). */
export async function saveAll(conversations: Conversation[], messages: Message[]) {
  await setMany(messages.map((m) => [[m.conversationId, m.id], $state.snapshot(m)]), messageStore);
  await setMany(conversations.map((c) => [c.id, $state.snapshot(c)]), conversationStore);
  announce(null);
}
