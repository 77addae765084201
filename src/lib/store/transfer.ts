import { INTENTS, ROUTES, type Classification, type PrefillCount, type PromptInfo, type ReplyStats } from '../../../workers/protocol';
import { MAX_MESSAGE_CHARS } from '../limits';
import { modelDisplayName, readChoice } from '../model-source';
import { normalizeSettings } from '../settings';
import { isInvisible } from '../visible-text';
import { GROUP_EXPORT_VERSION, readDecision, readGroup, readSpeaker } from './group-transfer';
import { byTime, titleFrom, type AssistantMessage, type Conversation, type Message, type ReplyStatus } from './types';

/** Export/import: the file format, its strict validation, and how an import merges. */

export const EXPORT_FORMAT = 'phi-chat';
/** Version 1 is a file of one-to-one chats only; with a group conversation in it, the file is version 2. */
export const EXPORT_VERSION = GROUP_EXPORT_VERSION;
const MAX_FILE_CHARS = 200_000_000;
const MAX_TEXT = MAX_MESSAGE_CHARS;
/** A prompt's format and note are one short sentence each. */
const MAX_NOTE = 1000;
/**
 * The times an import accepts: none before 2000 (older than the app, or a time in seconds read as
 * milliseconds) and none over a day ahead of this device's clock (another device's clock may run
 * a little fast; a time far in the future would sort first forever and is no date at all).
 */
export const EARLIEST_TIME = Date.UTC(2000, 0, 1);
export const LATEST_AHEAD_MS = 86_400_000;

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

/** The time as ISO 8601, or a plain word for a stored time that is no date (kept from before imports checked them). */
function isoTime(time: number): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? 'at an unknown time' : date.toISOString();
}

export function toMarkdown(conversation: Conversation, messages: Message[]): string {
  const lines = [`# ${conversation.title}`, '', `_Exported from Phi Chat, ${isoTime(conversation.updatedAt)}_`, ''];
  for (const message of [...messages].sort(byTime)) {
    if (message.role === 'user') {
      lines.push(`**${message.speaker?.name ?? 'You'}**`, '', message.text, '');
    } else if (message.decision?.speak === false) {
      lines.push('_phi-2 stayed silent_', '');
    } else {
      const intent = message.classification ? ` (${message.classification.route})` : '';
      lines.push(`**${message.model ? modelDisplayName(message.model) : 'phi-2'}**${intent}`, '', message.text || `_${message.error ?? 'no reply'}_`, '');
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
function time(v: Json, path: string, now: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return fail(path, 'must be a time in milliseconds');
  if (v < EARLIEST_TIME) return fail(path, `is ${v}, before the year 2000`);
  if (v > now + LATEST_AHEAD_MS) return fail(path, `is ${v}, more than a day in the future`);
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

const count = (n: Json, path: string) => (Number.isInteger(n) && (n as number) >= 0 ? (n as number) : fail(path, 'must be a count'));

function prompt(v: Json, path: string): PromptInfo {
  if (!isObject(v)) return fail(path, 'must be a prompt record');
  const info: PromptInfo = { text: str(v.text, `${path}.text`, MAX_TEXT), tokens: count(v.tokens, `${path}.tokens`), turnsUsed: count(v.turnsUsed, `${path}.turnsUsed`) };
  if (typeof v.summarized === 'boolean') info.summarized = v.summarized;
  if (v.foldTurns !== undefined) info.foldTurns = count(v.foldTurns, `${path}.foldTurns`);
  if (v.format !== undefined) info.format = str(v.format, `${path}.format`, MAX_NOTE);
  if (v.note !== undefined) info.note = str(v.note, `${path}.note`, MAX_NOTE);
  return info;
}

function prefill(v: Json, path: string): PrefillCount {
  if (!isObject(v)) return fail(path, 'must hold the cached and computed token counts');
  return { cached: count(v.cached, `${path}.cached`), computed: count(v.computed, `${path}.computed`) };
}

function stats(v: Json, path: string): ReplyStats {
  if (!isObject(v)) return fail(path, 'must be a stats record');
  const keys = ['promptTokens', 'replyTokens', 'classifyMs', 'firstTokenMs', 'prefillTokensPerSecond', 'decodeTokensPerSecond'] as const;
  const result = Object.fromEntries(
    keys.map((key) => {
      const n = v[key];
      return [key, typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : fail(`${path}.${key}`, 'must be a number')];
    }),
  ) as unknown as ReplyStats;
  for (const key of ['classifyPrefill', 'replyPrefill'] as const) {
    if (v[key] !== undefined) result[key] = prefill(v[key], `${path}.${key}`);
  }
  return result;
}

function message(v: Json, conversationId: string, path: string, now: number): Message {
  if (!isObject(v)) return fail(path, 'must be a message');
  const base = {
    id: str(v.id, `${path}.id`, 100, ID),
    conversationId,
    text: str(v.text, `${path}.text`, MAX_TEXT),
    createdAt: time(v.createdAt, `${path}.createdAt`, now),
    updatedAt: time(v.updatedAt ?? v.createdAt, `${path}.updatedAt`, now),
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
    // Error texts and the model's address come from outside the app and are stored as they are.
    error: optional(v.error, (e) => str(e, `${path}.error`, MAX_TEXT)),
    errorDetail: optional(v.errorDetail, (e) => str(e, `${path}.errorDetail`, MAX_TEXT)),
    engine: optional(v.engine, (e) => str(e, `${path}.engine`, 200)),
    model: optional(v.model, (m) => str(m, `${path}.model`, MAX_TEXT)),
  };
  // Only fields that hold something: an import round-trips to exactly what was exported.
  return Object.fromEntries(Object.entries(reply).filter(([, value]) => value !== undefined)) as AssistantMessage;
}

export interface ImportedConversation {
  conversation: Conversation;
  messages: Message[];
}

/** A conversation of the file that was left out, and why. */
export interface SkippedConversation {
  /** Its title, or its place in the file where it has none to show. */
  name: string;
  reason: string;
}

export interface ParsedImport {
  conversations: ImportedConversation[];
  skipped: SkippedConversation[];
}

/**
 * Validates a whole file before anything is written. A file that is not an export is refused
 * whole; a bad conversation in it is skipped, with the reason, and the others come in.
 */
export function parseImport(text: string, now = Date.now()): ParsedImport {
  if (text.length > MAX_FILE_CHARS) throw new ImportError('The file is too large to be a Phi Chat export.');
  let data: Json;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ImportError('The file is not valid JSON: it may be truncated or not an export at all.');
  }
  if (!isObject(data) || data.format !== EXPORT_FORMAT) throw new ImportError('This file is not a Phi Chat export.');
  if (!Number.isInteger(data.version) || (data.version as number) < 1) {
    throw new ImportError(`This file’s version (${JSON.stringify(data.version) ?? 'missing'}) is not a version number, so it is not a Phi Chat export.`);
  }
  if ((data.version as number) > EXPORT_VERSION) {
    throw new ImportError('This export was made by a newer version of Phi Chat; update the app to import it.');
  }
  if (!Array.isArray(data.conversations)) return fail('conversations', 'must be a list');
  const result: ParsedImport = { conversations: [], skipped: [] };
  const seen = new Set<string>();
  data.conversations.forEach((c: Json, i: number) => {
    try {
      const imported = conversation(c, `conversations[${i}]`, now);
      if (seen.has(imported.conversation.id)) fail(`conversations[${i}].id`, 'is the id of an earlier conversation in the file');
      seen.add(imported.conversation.id);
      result.conversations.push(imported);
    } catch (error) {
      if (!(error instanceof ImportError)) throw error;
      const title = isObject(c) && typeof c.title === 'string' && !isInvisible(c.title) ? c.title.trim() : '';
      const name = title ? `“${title.length > 80 ? `${title.slice(0, 80)}…` : title}”` : `Conversation ${i + 1}`;
      result.skipped.push({ name, reason: error.message });
    }
  });
  return result;
}

function conversation(c: Json, path: string, now: number): ImportedConversation {
  if (!isObject(c)) return fail(path, 'must be a conversation');
  const id = str(c.id, `${path}.id`, 100, ID);
  if (!Array.isArray(c.messages)) return fail(`${path}.messages`, 'must be a list');
  const messageIds = new Set<string>();
  const messages = c.messages.map((m: Json, j: number) => {
    const parsed = message(m, id, `${path}.messages[${j}]`, now);
    if (messageIds.has(parsed.id)) fail(`${path}.messages[${j}].id`, 'appears twice');
    messageIds.add(parsed.id);
    return parsed;
  });
  const title = str(c.title, `${path}.title`, 500);
  const conversation: Conversation = {
    id,
    // A title that shows nothing could not be seen or picked in the list.
    title: isInvisible(title) ? titleFrom(messages.find((m) => m.role === 'user')?.text ?? '') : title,
    createdAt: time(c.createdAt, `${path}.createdAt`, now),
    updatedAt: time(c.updatedAt, `${path}.updatedAt`, now),
  };
  const summary = optional(c.summary, (s) => str(s, `${path}.summary`, 20_000));
  const memoryStart = optional(c.memoryStart, (m) => str(m, `${path}.memoryStart`, 100, ID));
  if (summary !== undefined) conversation.summary = summary;
  if (memoryStart !== undefined) conversation.memoryStart = memoryStart;
  // The settings go through the same strict reader as saved app settings: clamped, unknown keys dropped.
  if (isObject(c.settings)) conversation.settings = normalizeSettings(c.settings);
  if (c.group !== undefined) conversation.group = readGroup(c.group, `${path}.group`);
  // A model this build does not know (or a malformed one) is dropped, not a reason to refuse the conversation.
  const model = readChoice(c.model);
  if (model) conversation.model = model;
  return { conversation, messages };
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
