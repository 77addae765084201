/**
 * The prompts, as data: plain text files, imported raw. The UI offers the instruction defaults for
 * editing and resetting; the worker fills the templates.
 */
import type { RouteIntent } from '../workers/protocol';
import classify from './classify.txt?raw';
import groupChat from './group-chat.txt?raw';
import groupReminder from './group-reminder.txt?raw';
import groupSummarize from './group-summarize.txt?raw';
import groupInstructions from './group.txt?raw';
import general from './intents/general.txt?raw';
import joke from './intents/joke.txt?raw';
import sales from './intents/sales.txt?raw';
import support from './intents/support.txt?raw';
import reply from './reply.txt?raw';
import summarize from './summarize.txt?raw';

// Trailing newlines trimmed: the reply follows `Chatbot:` on the same line, the label `The category is`.
export const TEMPLATES = { classify: classify.trimEnd(), reply: reply.trimEnd(), summarize: summarize.trimEnd() };

export const DEFAULT_INSTRUCTIONS: Record<RouteIntent, string> = {
  support: support.trim(),
  sales: sales.trim(),
  joke: joke.trim(),
  general: general.trim(),
};

/** The group conversation's frame (instructions, people, transcript, reminder); the decision and the reply each add their last line. */
export const GROUP_TEMPLATE = groupChat.trimEnd();

/** Folds the group lines that no longer fit into the running summary. */
export const GROUP_SUMMARIZE_TEMPLATE = groupSummarize.trimEnd();

/** What the group instructions and their reminder go back to on Reset to default. */
export const DEFAULT_GROUP_PROMPTS = { instructions: groupInstructions.trim(), reminder: groupReminder.trim() };
