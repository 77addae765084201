import { isInvisible } from '../visible-text';
import type { ModelChoice } from '../model-source';
import type { ChatSettings, Classification, GroupDecision, PromptInfo, ReplyStats, StopReason } from '../../../workers/protocol';

/** Bumped whenever the stored shape changes; `schema.ts` holds the migrations. */
export const SCHEMA_VERSION = 2;

export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  /** Last activity: the newest message's time, or a rename. The sidebar sorts by it. */
  updatedAt: number;
  /**
   * The model's memory: messages before `memoryStart` no longer fit the context window and live on
   * only as `summary`, which the worker wrote with phi-2.
   */
  summary?: string;
  memoryStart?: string;
  /** Settings for this conversation only; without them it follows the app-wide ones. */
  settings?: ChatSettings;
  /** Present on a group conversation: the people taking part, in the order the composer offers them. */
  group?: { participants: Participant[] };
  /** The model the conversation was last written with, offered again when another one is loaded. */
  model?: ModelChoice;
}

/** A person in a group conversation; messages refer to them by id, so a rename follows. */
export interface Participant {
  id: string;
  name: string;
}

export type ReplyStatus = 'thinking' | 'streaming' | 'done' | 'stopped' | 'interrupted' | 'error';

interface MessageBase {
  id: string;
  conversationId: string;
  text: string;
  createdAt: number;
  updatedAt: number;
}

export interface UserMessage extends MessageBase {
  role: 'user';
  /** Who sent it, in a group conversation; the name is kept so it still shows once they leave. */
  speaker?: Participant;
}

export interface AssistantMessage extends MessageBase {
  role: 'assistant';
  status: ReplyStatus;
  classification?: Classification;
  /** In a group conversation: whether the assistant spoke; a silent turn has no text. */
  decision?: GroupDecision;
  prompt?: PromptInfo;
  stopReason?: StopReason;
  error?: string;
  errorDetail?: string;
  stats?: ReplyStats;
  /** What produced the reply, e.g. "transformers.js · wasm · fp32". */
  engine?: string;
  model?: string;
}

export type Message = UserMessage | AssistantMessage;

/** A group turn where the assistant decided not to speak. */
export const isSilent = (m: Message): m is AssistantMessage => m.role === 'assistant' && m.decision?.speak === false;

/** A reply still being written: classified or not, with no end yet. */
export const isPending = (m: Message): m is AssistantMessage => m.role === 'assistant' && (m.status === 'thinking' || m.status === 'streaming');

/** Messages in conversation order; ties (two tabs in the same millisecond) break by id. */
export function byTime(a: Message, b: Message): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A title from the first message: its first line that shows something, cut at a word near 60 characters. */
export function titleFrom(text: string): string {
  const line = (text.split('\n').find((l) => !isInvisible(l)) ?? '').replace(/^[\s\p{Default_Ignorable_Code_Point}]+/u, '').trimEnd().replace(/\s+/g, ' ');
  if (line.length <= 60) return line || 'New chat';
  const cut = line.slice(0, 60);
  const space = cut.lastIndexOf(' ');
  return `${(space > 30 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
