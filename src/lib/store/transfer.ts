import { INTENTS, ROUTES, type Classification, type PromptInfo, type ReplyStats } from '../../../workers/protocol';
import { normalizeSettings } from '../settings';
import { GROUP_EXPORT_VERSION, readDecision, readGroup, readSpeaker } from './group-transfer';
import { byTime, type AssistantMessage, type Conversation, type Message, type ReplyStatus } from './types';

/** Export/import: the file format, its strict validation, and how an import merges. */

export const EXPORT_FORMAT = 'phi-chat';
/** Version 1 is a file of one-to-one chats only; with a group conversation in it, the file is version 2. */
export const EXPORT_VERSION = GROUP_EXPORT_VERSION;
const MAX_FILE_CHARS = 200_000_000;
const MAX_TEXT = 1_000_000;

export interface ConversationExport extends Conversation {
  messages: Omit<Message, 'conversationId'>[];
}

export interface ExportFile {
  format: typeof EXPORT_FORMAT;
  version: number;
  exportedAt: string;
  conversations: ConversationExport[];
}

export function toExport(conversations: { conversation: Conversation; messages: Message[] }[], now = new Date()): ExportFile {
  return {
    format: EXPORT_FORMAT,
    version: conversations.some(({ conversation }) => conversation.group) ? GROUP_EXPORT_VERSION : 1,
    exportedAt: now.toISOString(),
    conversations: conversations.map(({ conversation, messages }) => ({
      ...conversation,
      messages: [...messages].sort(byTime).map(({ conversationId: _, ...message }) => message),
    })),
  };
}

export function toMarkdown(conversation: Conversation, messages: Message[]): string {
  const lines = [`# ${conversation.title}`, '', `_Exported from Phi Chat, ${new Date(conversation.updatedAt).toISOString()}_`, ''];
  for (const message of [...messages].sort(byTime)) {
    if (message.role === 'user') {
      lines.push(`**${message.speaker?.name ?? 'You'}**`, '', message.text, '');
    } else if (message.decision?.speak === false) {
      lines.push('_phi-2 stayed silent_', '');
    } else {
      const intent = message.classification ? ` (${message.classification.route})` : '';
      lines.push(`**phi-2**${intent}`, '', message.text || `_${message.error ?? 'no reply'}_`, '');
    }
  }
  return lines.join('\n');
}

export class ImportError extends Error {
  override name = 'ImportError';
}

type Json = unknown;
const fail = (path: string, what: string): never => {
  throw new ImportError(`${path} ${what}.`);
};
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: Json, path: string, max: number, pattern?: RegExp): string {
  if (typeof v !== 'string') return fail(path, 'must be text');
  if (v.length > max) return fail(path, `is longer than ${max} characters`);
  if (pattern && !pattern.test(v)) return fail(path, 'has characters an id cannot have');
  return v;
}
function time(v: Json, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return fail(path, 'must be a time');
  return v;
}
function optional<T>(v: Json, read: (v: Json) => T): T | undefined {
  return v === undefined || v === null ? undefined : read(v);
}
function oneOf<T extends string>(v: Json, options: readonly T[], path: string): T {
  if (!options.includes(v as T)) return fail(path, `must be one of ${options.join(', ')}`);
  return v as T;
}

const ID = /^[A-Za-z0-9_-]{1,100}$/;
const STATUSES: readonly ReplyStatus[] = ['thinking', 'streaming', 'done', 'stopped', 'interrupted', 'error'];

function classification(v: Json, path: string): Classification {
  if (!isObject(v) || !isObject(v.probabilities)) return fail(path, 'must hold the three intent probabilities');
  const probabilities = {} as Classification['probabilities'];
  for (const intent of INTENTS) {
    const p = v.probabilities[intent];
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) return fail(`${path}.probabilities.${intent}`, 'must be a probability');
    probabilities[intent] = p;
  }
  const route = oneOf(v.route, ROUTES, `${path}.route`);
  return v.overridden === true ? { probabilities, route, overridden: true } : { probabilities, route };
}

function prompt(v: Json, path: string): PromptInfo {
  if (!isObject(v)) return fail(path, 'must be a prompt record');
  const count = (n: Json, p: string) => (Number.isInteger(n) && (n as number) >= 0 ? (n as number) : fail(p, 'must be a count'));
  const info: PromptInfo = { text: str(v.text, `${path}.text`, MAX_TEXT), tokens: count(v.tokens, `${path}.tokens`), turnsUsed: count(v.turnsUsed, `${path}.turnsUsed`) };
  if (typeof v.summarized === 'boolean') info.summarized = v.summarized;
  return info;
}

function stats(v: Json, path: string): ReplyStats {
  if (!isObject(v)) return fail(path, 'must be a stats record');
  const keys = ['promptTokens', 'replyTokens', 'classifyMs', 'firstTokenMs', 'prefillTokensPerSecond', 'decodeTokensPerSecond'] as const;
  return Object.fromEntries(
    keys.map((key) => {
      const n = v[key];
      return [key, typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : fail(`${path}.${key}`, 'must be a number')];
    }),
  ) as unknown as ReplyStats;
}

function message(v: Json, conversationId: string, path: string): Message {
  if (!isObject(v)) return fail(path, 'must be a message');
  const base = {
    id: str(v.id, `${path}.id`, 100, ID),
    conversationId,
    text: str(v.text, `${path}.text`, MAX_TEXT),
    createdAt: time(v.createdAt, `${path}.createdAt`),
    updatedAt: time(v.updatedAt ?? v.createdAt, `${path}.updatedAt`),
  };
  const role = oneOf(v.role, ['user', 'assistant'] as const, `${path}.role`);
  if (role === 'user') return v.speaker === undefined ? { ...base, role } : { ...base, role, speaker: readSpeaker(v.speaker, `${path}.speaker`) };
  const status = oneOf(v.status, STATUSES, `${path}.status`);
  const reply: AssistantMessage = {
    ...base,
    role,
    // A reply that was still being written when exported cannot resume: it was interrupted.
    status: status === 'streaming' || status === 'thinking' ? 'interrupted' : status,
    classification: optional(v.classification, (c) => classification(c, `${path}.classification`)),
    decision: optional(v.decision, (d) => readDecision(d, `${path}.decision`)),
    stats: optional(v.stats, (s) => stats(s, `${path}.stats`)),
    prompt: optional(v.prompt, (p) => prompt(p, `${path}.prompt`)),
    stopReason: optional(v.stopReason, (s) => oneOf(s, ['end', 'length', 'aborted'] as const, `${path}.stopReason`)),
    error: optional(v.error, (e) => str(e, `${path}.error`, 10_000)),
    errorDetail: optional(v.errorDetail, (e) => str(e, `${path}.errorDetail`, 100_000)),
    engine: optional(v.engine, (e) => str(e, `${path}.engine`, 200)),
    model: optional(v.model, (m) => str(m, `${path}.model`, 2_000)),
  };
  // Only fields that hold something: an import round-trips to exactly what was exported.
  return Object.fromEntries(Object.entries(reply).filter(([, value]) => value !== undefined)) as AssistantMessage;
}

export interface ImportedConversation {
  conversation: Conversation;
  messages: Message[];
}

/** Validates a whole file before anything is written; any problem rejects all of it. */
export function parseImport(text: string): ImportedConversation[] {
  if (text.length > MAX_FILE_CHARS) throw new ImportError('The file is too large to be a Phi Chat export.');
  let data: Json;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ImportError('The file is not valid JSON: it may be truncated or not an export at all.');
  }
  if (!isObject(data) || data.format !== EXPORT_FORMAT) throw new ImportError('This file is not a Phi Chat export.');
  if (typeof data.version !== 'number' || data.version > EXPORT_VERSION) {
    throw new ImportError('This export was made by a newer version of Phi Chat; update the app to import it.');
  }
  if (!Array.isArray(data.conversations)) return fail('conversations', 'must be a list');
  const seen = new Set<string>();
  return data.conversations.map((c: Json, i: number) => {
    const path = `conversations[${i}]`;
    if (!isObject(c)) return fail(path, 'must be a conversation');
    const id = str(c.id, `${path}.id`, 100, ID);
    if (seen.has(id)) return fail(`${path}.id`, 'appears twice');
    seen.add(id);
    if (!Array.isArray(c.messages)) return fail(`${path}.messages`, 'must be a list');
    const messageIds = new Set<string>();
    const messages = c.messages.map((m: Json, j: number) => {
      const parsed = message(m, id, `${path}.messages[${j}]`);
      if (messageIds.has(parsed.id)) fail(`${path}.messages[${j}].id`, 'appears twice');
      messageIds.add(parsed.id);
      return parsed;
    });
    const conversation: Conversation = {
      id,
      title: str(c.title, `${path}.title`, 500),
      createdAt: time(c.createdAt, `${path}.createdAt`),
      updatedAt: time(c.updatedAt, `${path}.updatedAt`),
    };
    const summary = optional(c.summary, (s) => str(s, `${path}.summary`, 20_000));
    const memoryStart = optional(c.memoryStart, (m) => str(m, `${path}.memoryStart`, 100, ID));
    if (summary !== undefined) conversation.summary = summary;
    if (memoryStart !== undefined) conversation.memoryStart = memoryStart;
    // The settings go through the same strict reader as saved app settings: clamped, unknown keys dropped.
    if (isObject(c.settings)) conversation.settings = normalizeSettings(c.settings);
    if (c.group !== undefined) conversation.group = readGroup(c.group, `${path}.group`);
    return { conversation, messages };
  });
}

export interface ImportPlan {
  conversations: Conversation[];
  messages: Message[];
  newConversations: number;
  mergedConversations: number;
}

/**
 * Merges without clobbering: a new conversation comes in whole; into one that exists only messages
 * it does not have yet are added, and nothing already stored is overwritten.
 */
export function planImport(imported: ImportedConversation[], existing: Map<string, { conversation: Conversation; messageIds: Set<string> }>): ImportPlan {
  const plan: ImportPlan = { conversations: [], messages: [], newConversations: 0, mergedConversations: 0 };
  for (const { conversation, messages } of imported) {
    const current = existing.get(conversation.id);
    if (!current) {
      plan.conversations.push(conversation);
      plan.messages.push(...messages);
      plan.newConversations++;
      continue;
    }
    const added = messages.filter((m) => !current.messageIds.has(m.id));
    if (added.length === 0) continue;
    plan.messages.push(...added);
    plan.conversations.push({ ...current.conversation, updatedAt: Math.max(current.conversation.updatedAt, ...added.map((m) => m.updatedAt)) });
    plan.mergedConversations++;
  }
  return plan;
}
