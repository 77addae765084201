/**
 * How a model wants its prompt. phi-2 is a base model and reads the plain `Human:` / `Chatbot:`
 * transcripts of `prompts/*.txt`; an instruct model was trained on its own chat template, a list of
 * role messages wrapped in special tokens, and only that makes it answer as itself. Every prompt
 * builder asks the loaded engine for its format and renders through it.
 */
import { neutralizeMarkers } from './neutralize';
import { StopSequenceFilter } from './stop-sequences';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** The conversation templates of WebLLM's instruct models that we render ourselves (WebLLM runs raw completions). */
export const CHAT_FORMAT_NAMES = ['chatml', 'llama3', 'phi3'] as const;
export type ChatFormatName = (typeof CHAT_FORMAT_NAMES)[number];

export interface PlainFormat {
  kind: 'plain';
  /** Why a model that has a chat template still gets the plain format; shown in Details. */
  note?: string;
}

export interface ChatFormat {
  kind: 'chat';
  /** What Details calls it: `ChatML`, or `the model's chat template`. */
  name: string;
  /** The messages as the model's template writes them, ending with the prompt for the assistant's answer. */
  render(messages: readonly ChatMessage[]): string;
  /**
   * Special-token strings beyond the generic shapes `neutralizeMarkers` knows (the tokenizer's own
   * added tokens): none may appear in text that goes into a message.
   */
  markers: readonly string[];
}

export type PromptFormat = PlainFormat | ChatFormat;

export const PLAIN_FORMAT: PlainFormat = { kind: 'plain' };

/**
 * Renders the messages with the generation prompt, followed by the start of the assistant's answer
 * (a label prefix to score after, or a cut reply's text so far to continue).
 */
export function renderChat(format: ChatFormat, messages: readonly ChatMessage[], answerStart = ''): string {
  return format.render(messages) + answerStart;
}

interface BuiltIn {
  name: string;
  /** Before the first message: the begin-of-text token, which WebLLM's raw completions do not add. */
  start: string;
  message(role: ChatRole, content: string): string;
  /** Opens the assistant's answer. */
  generation: string;
  markers: readonly string[];
}

/**
 * As the models' own templates write them (tokenizer_config.json `chat_template`) and as mlc-llm's
 * conversation templates `qwen2`/`chatml`, `llama-3`/`llama-3_1` and `phi-3` do, begin-of-text
 * token included (their `system_prefix_token_ids`: 128000 `<|begin_of_text|>`, 1 `<s>`).
 */
const BUILT_IN: Record<ChatFormatName, BuiltIn> = {
  chatml: {
    name: 'ChatML',
    start: '',
    message: (role, content) => `<|im_start|>${role}\n${content}<|im_end|>\n`,
    generation: '<|im_start|>assistant\n',
    markers: ['<|im_start|>', '<|im_end|>', '<|endoftext|>'],
  },
  llama3: {
    name: 'Llama 3',
    start: '<|begin_of_text|>',
    message: (role, content) => `<|start_header_id|>${role}<|end_header_id|>\n\n${content}<|eot_id|>`,
    generation: '<|start_header_id|>assistant<|end_header_id|>\n\n',
    markers: ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>', '<|eom_id|>', '<|python_tag|>'],
  },
  phi3: {
    name: 'Phi-3',
    start: '<s>',
    message: (role, content) => `<|${role}|>\n${content}<|end|>\n`,
    generation: '<|assistant|>\n',
    markers: ['<s>', '</s>', '<|system|>', '<|user|>', '<|assistant|>', '<|end|>', '<|endoftext|>'],
  },
};

/** One of the built-in renderers, for an engine that runs raw completions of our own text. */
export function builtInChatFormat(name: ChatFormatName): ChatFormat {
  const format = BUILT_IN[name];
  return {
    kind: 'chat',
    name: format.name,
    // The models' templates trim each message (Llama 3's says so; the others' inputs come trimmed).
    render: (messages) => format.start + messages.map((m) => format.message(m.role, m.content.trim())).join('') + format.generation,
    markers: format.markers,
  };
}

/**
 * Cleans text for a prompt in this format. Plain prompts need the speaker labels neutralised
 * (`speakerClean`); chat prompts also their template's markers, which would otherwise be read as,
 * or even tokenized into, the special tokens that end a message and start another.
 */
export function cleanerFor(format: PromptFormat, speakerClean: (text: string) => string): (text: string) => string {
  if (format.kind === 'plain') return speakerClean;
  return (text) => neutralizeMarkers(speakerClean(text), format.markers);
}

/** What Details says about the prompt's format. */
export function formatLabel(format: PromptFormat): string {
  return format.kind === 'plain' ? 'plain text (Human: / Chatbot:)' : `chat template (${format.name})`;
}

/**
 * Where a reply in this format ends, beyond the model's end-of-turn token: in a plain transcript at
 * any speaker's line; in a chat template at a marker the model wrote out, and at the lines of the
 * names given (all speaker lines too when `anySpeaker`, as in a group's transcript).
 */
export function stopFilterFor(format: PromptFormat, speakers: readonly string[], { anySpeaker }: { anySpeaker: boolean }): StopSequenceFilter {
  if (format.kind === 'plain') return new StopSequenceFilter(speakers);
  return new StopSequenceFilter(speakers, { anySpeaker, markers: format.markers });
}
