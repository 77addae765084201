import type { GroupLine } from '../../workers/protocol';
import type { Message, Participant } from './store/types';

/** The two people a new group chat starts with; both can be renamed. */
export const DEFAULT_PARTICIPANTS = ['Alice', 'Bob'];

/** A speaker's name now: their current one while they take part, else the one their message kept. */
export function speakerNameOf(speaker: Participant | undefined, participants: readonly Participant[]): string {
  if (!speaker) return 'Someone';
  return participants.find((p) => p.id === speaker.id)?.name ?? speaker.name;
}

/**
 * A group conversation's messages as prompt lines: every participant's message, and the replies the
 * assistant wrote. Silent turns and failed replies leave no line: nothing was said.
 */
export function linesOf(messages: readonly Message[], participants: readonly Participant[], bot: string): GroupLine[] {
  return indexedLinesOf(messages, participants, bot).map(({ line }) => line);
}

/** The lines with the id of the message each came from, to tell where the model's memory starts. */
export function indexedLinesOf(messages: readonly Message[], participants: readonly Participant[], bot: string): { line: GroupLine; messageId: string }[] {
  const lines: { line: GroupLine; messageId: string }[] = [];
  for (const message of messages) {
    if (message.role === 'user') lines.push({ line: { speaker: speakerNameOf(message.speaker, participants), text: message.text }, messageId: message.id });
    else if (message.text && message.status !== 'error' && message.decision?.speak !== false) lines.push({ line: { speaker: bot, text: message.text, assistant: true }, messageId: message.id });
  }
  return lines;
}

/**
 * The lines a group reply's prompt left out (all but its last `used`) that the summary does not
 * hold yet, and the message the memory starts at once they are folded. `unfolded` holds the ids of
 * the messages from the memory's start now: a summary saved after the reply read `indexed` may
 * have folded some of its lines already.
 */
export function linesToFold(indexed: readonly { line: GroupLine; messageId: string }[], used: number, unfolded: ReadonlySet<string>): { lines: GroupLine[]; next: string | undefined } {
  const cut = Math.max(0, indexed.length - used);
  return {
    lines: indexed.slice(0, cut).filter(({ messageId }) => unfolded.has(messageId)).map(({ line }) => line),
    next: indexed[cut]?.messageId,
  };
}

/** The participant after (step 1) or before (step -1) the current one, wrapping around. */
export function nextSpeaker(participants: readonly Participant[], currentId: string | null, step: 1 | -1): Participant | undefined {
  if (participants.length === 0) return undefined;
  const index = participants.findIndex((p) => p.id === currentId);
  return participants[(index + step + participants.length) % participants.length];
}
