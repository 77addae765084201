import * as db from './store/db.svelte';
import { describeWriteError, PendingWrites } from './store/pending-writes';
import type { ImportPlan, SkippedConversation } from './store/transfer';
import { isInvisible } from './visible-text';
import type { ChatSettings } from '../../workers/protocol';
import type { ModelChoice } from './model-source';
import { byTime, isPending, titleFrom, type AssistantMessage, type Conversation, type Message, type Participant } from './store/types';

/** Import and export are a chunk of their own, fetched on the first Import or Export. */
const loadTransfer = () => import('./store/transfer');

const SELECTED_KEY = 'phi-chat.selected-conversation';
const PERSIST_ASKED_KEY = 'phi-chat.persist-asked';

export type Persistence = 'unknown' | 'persistent' | 'best-effort' | 'unsupported';

/** The name of the Web Lock a tab holds while it writes a reply; other tabs read it to tell a live reply from an interrupted one. */
export const replyLock = (messageId: string) => `phi-chat-reply:${messageId}`;


/**
 * The stored conversations and the open one. Every change is written to IndexedDB (unless the data
 * belongs to a newer app version) and announced to other tabs, which re-read what changed.
 */
export class Library {
  conversations = $state<Conversation[]>([]);
  currentId = $state<string | null>(null);
  messages = $state<Message[]>([]);
  /** Set when the stored data is from a newer version of the app: shown, never overwritten. */
  readOnly = $state<string | null>(null);
  persistence = $state<Persistence>('unknown');
  /** Set while changes cannot be written (storage full, say): they stay on screen and are retried. */
  saveError = $state<string | null>(null);
  ready = $state(false);
  readonly current = $derived(this.conversations.find((c) => c.id === this.currentId) ?? null);
  /**
   * Replies this tab is writing, by id: the live objects. Re-reading a conversation (another tab's
   * change, or opening it again) puts them back in place of their stored copies, which lag behind.
   */
  private readonly writing = new Map<string, Message>();
  private readonly pending = new PendingWrites((error) => (this.saveError = error === null ? null : describeWriteError(error)));
  private readonly removedListeners: ((conversationId: string) => void)[] = [];

  /** `listener` hears of each conversation deleted, here or in another tab. */
  onRemoved(listener: (conversationId: string) => void) {
    this.removedListeners.push(listener);
  }

  async init() {
    const plan = await db.openStore();
    if (plan.action === 'read-only') {
      this.readOnly = 'Your conversations were saved by a newer version of Phi Chat. Reload to update; until then nothing you do here is saved.';
    }
    this.conversations = await db.listConversations();
    const last = localStorage.getItem(SELECTED_KEY);
    if (last && this.conversations.some((c) => c.id === last)) await this.select(last);
    this.persistence = navigator.storage?.persisted ? ((await navigator.storage.persisted()) ? 'persistent' : 'best-effort') : 'unsupported';
    db.onOtherTabChange((change) => void this.refresh(change.conversationId));
    this.ready = true;
  }

  async select(id: string) {
    this.currentId = id;
    localStorage.setItem(SELECTED_KEY, id);
    const loaded = (await db.loadMessages(id)).map((m) => this.writing.get(m.id) ?? m).sort(byTime);
    this.messages = loaded;
    await this.markInterrupted(loaded);
  }

  newChat() {
    this.currentId = null;
    this.messages = [];
    localStorage.removeItem(SELECTED_KEY);
  }

  /** Starts a group conversation at once, so its participants can be set before anyone writes. */
  async newGroupChat(names: readonly string[]) {
    const now = Date.now();
    const conversation: Conversation = {
      id: crypto.randomUUID(),
      title: 'Group chat',
      createdAt: now,
      updatedAt: now,
      group: { participants: names.map((name) => ({ id: crypto.randomUUID(), name })) },
    };
    this.conversations.unshift(conversation);
    this.currentId = conversation.id;
    this.messages = [];
    localStorage.setItem(SELECTED_KEY, conversation.id);
    await this.saveConversation(conversation);
  }

  /** Replaces the open group conversation's participants; their messages keep the names they were sent with. */
  async setParticipants(participants: Participant[]) {
    const conversation = this.current;
    if (!conversation?.group) return;
    conversation.group = { participants };
    await this.saveConversation(conversation);
  }

  /** Adds a message to the open conversation, starting one (titled from it) if none is open. */
  async add(message: Omit<UserMessage, 'conversationId'> | Omit<AssistantMessage, 'conversationId'>): Promise<Message> {
    if (!this.currentId) {
      const conversation: Conversation = { id: crypto.randomUUID(), title: titleFrom(message.text), createdAt: message.createdAt, updatedAt: message.createdAt };
      this.conversations.unshift(conversation);
      this.currentId = conversation.id;
      localStorage.setItem(SELECTED_KEY, conversation.id);
      await this.saveConversation(conversation);
    }
    this.messages.push({ ...message, conversationId: this.currentId } as Message);
    const stored = this.messages.at(-1)!;
    await this.save(stored);
    return stored;
  }

  /** Writes a message (a reply as it grows) and bumps its conversation's last activity. */
  async save(message: Message) {
    // A reply still streaming into a conversation that was deleted meanwhile is not written back.
    if (!this.conversations.some((c) => c.id === message.conversationId)) return;
    message.updatedAt = Date.now();
    await this.write(() => db.saveMessage(message), messageKey(message));
    const conversation = this.conversations.find((c) => c.id === message.conversationId);
    if (conversation && conversation.updatedAt < message.createdAt) {
      conversation.updatedAt = message.createdAt;
      this.conversations.sort((a, b) => b.updatedAt - a.updatedAt);
      await this.saveConversation(conversation);
    }
  }

  /** Deletes messages of the open conversation (one, or a message and everything after it). */
  async deleteMessages(ids: readonly string[]) {
    if (!this.currentId || ids.length === 0) return;
    const gone = new Set(ids);
    const conversation = this.current;
    const memoryStartedAt = this.messages.find((m) => m.id === conversation?.memoryStart)?.createdAt;
    this.messages = this.messages.filter((m) => !gone.has(m.id));
    for (const id of ids) this.pending.forget(`${this.currentId}/${id}`);
    await this.write(() => db.deleteMessages(this.currentId!, ids));
    // The memory marker moves on to the next message that is still there.
    if (conversation?.memoryStart && gone.has(conversation.memoryStart)) {
      await this.setMemory(conversation.summary ?? '', this.messages.find((m) => m.createdAt >= memoryStartedAt!)?.id);
    }
  }

  /** Gives the open conversation settings of its own, or (null) returns it to the app-wide ones. */
  async setConversationSettings(settings: ChatSettings | null) {
    const conversation = this.current;
    if (!conversation) return;
    if (settings) conversation.settings = settings;
    else delete conversation.settings;
    await this.saveConversation(conversation);
  }

  /** Records the model the open conversation was last written with. */
  async setConversationModel(model: ModelChoice) {
    const conversation = this.current;
    if (!conversation) return;
    conversation.model = model;
    await this.saveConversation(conversation);
  }

  /** Records the running summary and the first message the model still reads verbatim. */
  async setMemory(summary: string, memoryStart: string | undefined) {
    const conversation = this.current;
    if (!conversation) return;
    conversation.summary = summary || undefined;
    conversation.memoryStart = memoryStart;
    await this.saveConversation(conversation);
  }

  /** Marks a reply as being written by this tab for as long as `done` is pending. */
  holdReply(reply: Message, done: Promise<unknown>) {
    this.writing.set(reply.id, reply);
    void navigator.locks?.request(replyLock(reply.id), () => done.catch(() => undefined));
    void done.finally(() => this.writing.delete(reply.id));
  }

  async rename(id: string, title: string) {
    const conversation = this.conversations.find((c) => c.id === id);
    const clean = title.trim().slice(0, 200);
    if (!conversation || isInvisible(clean)) return;
    conversation.title = clean;
    await this.saveConversation(conversation);
  }

  /** Deletes a conversation at once and returns a function that puts it back. */
  async remove(id: string): Promise<() => Promise<void>> {
    const conversation = this.conversations.find((c) => c.id === id);
    if (!conversation) return async () => {};
    const snapshot = $state.snapshot(conversation);
    const messages = await db.loadMessages(id);
    this.conversations = this.conversations.filter((c) => c.id !== id);
    if (this.currentId === id) this.newChat();
    for (const listener of this.removedListeners) listener(id);
    this.pending.forget(id);
    await this.write(() => db.deleteConversation(id));
    return async () => {
      await this.write(() => db.saveAll([snapshot], messages));
      this.conversations = await db.listConversations();
    };
  }

  /** Conversations whose title or any message contains every word of the query. */
  async search(query: string): Promise<Conversation[]> {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length === 0) return this.conversations;
    const text = new Map(this.conversations.map((c) => [c.id, c.title.toLowerCase()]));
    for (const m of await db.loadAllMessages()) {
      if (text.has(m.conversationId)) text.set(m.conversationId, `${text.get(m.conversationId)}\n${m.text.toLowerCase()}`);
    }
    return this.conversations.filter((c) => words.every((w) => text.get(c.id)!.includes(w)));
  }

  async exportJson(ids: string[] | 'all'): Promise<string> {
    const chosen = ids === 'all' ? this.conversations : this.conversations.filter((c) => ids.includes(c.id));
    const [{ toExport }, all] = await Promise.all([loadTransfer(), db.loadAllMessages()]);
    const data = toExport(chosen.map((conversation) => ({ conversation: $state.snapshot(conversation), messages: all.filter((m) => m.conversationId === conversation.id) })));
    return JSON.stringify(data, null, 2);
  }

  async exportMarkdown(id: string): Promise<string> {
    const conversation = this.conversations.find((c) => c.id === id)!;
    const [{ toMarkdown }, messages] = await Promise.all([loadTransfer(), db.loadMessages(id)]);
    return toMarkdown(conversation, messages);
  }

  /**
   * Validates the whole file first: a file that is no export throws an ImportError and changes
   * nothing; a bad conversation in it is skipped and listed in `skipped`.
   */
  async import(text: string): Promise<ImportPlan & { skipped: SkippedConversation[] }> {
    const { parseImport, planImport } = await loadTransfer();
    const { conversations: imported, skipped } = parseImport(text);
    if (this.readOnly) throw new Error(this.readOnly);
    const all = await db.loadAllMessages();
    const existing = new Map(
      this.conversations.map((c) => [c.id, { conversation: $state.snapshot(c), messageIds: new Set(all.filter((m) => m.conversationId === c.id).map((m) => m.id)) }]),
    );
    const plan = planImport(imported, existing);
    await db.saveAll(plan.conversations, plan.messages);
    this.conversations = await db.listConversations();
    if (this.currentId) await this.select(this.currentId);
    return { ...plan, skipped };
  }

  /** Asks once, when the user starts chatting, that the browser never evicts the conversations. */
  async askPersistence() {
    if (!navigator.storage?.persist || localStorage.getItem(PERSIST_ASKED_KEY) || this.persistence === 'persistent') return;
    localStorage.setItem(PERSIST_ASKED_KEY, '1');
    this.persistence = (await navigator.storage.persist()) ? 'persistent' : 'best-effort';
  }

  private async refresh(conversationId: string | null) {
    const before = this.conversations.map((c) => c.id);
    this.conversations = await db.listConversations();
    const missing = before.filter((id) => !this.conversations.some((c) => c.id === id));
    if (missing.length > 0) {
      // A conversation this tab has only just written may be missing from a read that began before the write; a second read sees it.
      const stored = new Set((await db.listConversations()).map((c) => c.id));
      for (const id of missing) if (!stored.has(id)) for (const listener of this.removedListeners) listener(id);
    }
    if (!this.currentId || (conversationId !== null && conversationId !== this.currentId)) return;
    if (!this.conversations.some((c) => c.id === this.currentId)) return this.newChat();
    const stored = await db.loadMessages(this.currentId);
    // Union by id: this tab's live replies win, and a message still on its way to the database stays.
    const merged = new Map(stored.map((m) => [m.id, m]));
    for (const m of this.messages) {
      if (!merged.has(m.id)) merged.set(m.id, m);
    }
    for (const [id, live] of this.writing) {
      if (merged.has(id)) merged.set(id, live);
    }
    this.messages = [...merged.values()].sort(byTime);
  }

  /**
   * A reply left half-written by a tab that closed (no tab holds its lock) is marked interrupted.
   * `loaded` is what `messages` was set to, read plainly: going through the reactive copy would make
   * a proxy of every message of a long conversation, where only the rendered ones need one.
   */
  private async markInterrupted(loaded: readonly Message[]) {
    const pending = loaded.filter(isPending).filter((m) => !this.writing.has(m.id));
    if (pending.length === 0) return;
    const held = new Set((await navigator.locks?.query())?.held?.map((lock) => lock.name) ?? []);
    for (const stored of pending) {
      const reply = this.messages[loaded.indexOf(stored)];
      if (reply?.id !== stored.id || reply.role !== 'assistant' || held.has(replyLock(reply.id))) continue;
      reply.status = 'interrupted';
      await this.write(() => db.saveMessage(reply), messageKey(reply));
    }
  }

  /** Writes again what could not be written; `saveError` says whether that worked. */
  retrySaves() {
    return this.pending.retry();
  }

  private saveConversation(conversation: Conversation) {
    return this.write(() => db.saveConversation(conversation), conversation.id);
  }

  /** Never throws: a write that fails is reported in `saveError` and, with a key, kept to retry. */
  private async write(operation: () => Promise<void>, key?: string) {
    if (!this.readOnly) await this.pending.run(operation, key);
  }
}

/** A message's key among the pending writes: under its conversation's, so forgetting that forgets it. */
const messageKey = (message: Message) => `${message.conversationId}/${message.id}`;

type UserMessage = Extract<Message, { role: 'user' }>;
