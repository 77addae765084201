/**
 * The prompts, as data: plain text files, imported raw. The worker fills these templates; the
 * instructions users edit in Settings are in defaults.ts.
 */
import classify from './classify.txt?raw';
import groupChat from './group-chat.txt?raw';
import groupSummarize from './group-summarize.txt?raw';
import reply from './reply.txt?raw';
import summarize from './summarize.txt?raw';
import chatClassify from './chat/classify.txt?raw';
import chatGroup from './chat/group.txt?raw';
import chatGroupSummarize from './chat/group-summarize.txt?raw';
import chatReply from './chat/reply.txt?raw';
import chatSummarize from './chat/summarize.txt?raw';

// Trailing newlines trimmed: the reply follows `Chatbot:` on the same line, the label `The category is`.
export const TEMPLATES = { classify: classify.trimEnd(), reply: reply.trimEnd(), summarize: summarize.trimEnd() };

/** The group conversation's frame (instructions, people, transcript, reminder); the decision and the reply each add their last line. */
export const GROUP_TEMPLATE = groupChat.trimEnd();

/** Folds the group lines that no longer fit into the running summary. */
export const GROUP_SUMMARIZE_TEMPLATE = groupSummarize.trimEnd();

/**
 * A prompt for a model with a chat template: the system message, this turn's user message (earlier
 * turns go between the two as messages of their own) and, where the model's answer is scored or
 * steered, the start of that answer.
 */
export interface ChatTemplate {
  system: string;
  user: string;
  answer: string;
}

/** Reads a file of `[system]`, `[user]` and `[answer]` sections, each running to the next. */
export function parseChatTemplate(text: string): ChatTemplate {
  const sections: Record<string, string> = { system: '', user: '', answer: '' };
  const parts = text.split(/^\[(system|user|answer)\]\n/m);
  if (parts[0].trim()) throw new Error('A chat prompt file starts with its [system] section');
  for (let i = 1; i < parts.length; i += 2) sections[parts[i]] = parts[i + 1].trim();
  return { system: sections.system, user: sections.user, answer: sections.answer };
}

/** The same prompts as TEMPLATES and the group ones, for models that have a chat template. */
export const CHAT_TEMPLATES = {
  reply: parseChatTemplate(chatReply),
  classify: parseChatTemplate(chatClassify),
  summarize: parseChatTemplate(chatSummarize),
  group: parseChatTemplate(chatGroup),
  groupSummarize: parseChatTemplate(chatGroupSummarize),
};
