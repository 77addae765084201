import type { Classification, EngineInfo, FileProgress, ModelSource, PromptInfo, Response, StopReason, Turn } from '../../workers/protocol';
import { InferenceClient, WORKER_CRASHED } from './inference-client';

export interface UserMessage {
  id: number;
  role: 'user';
  text: string;
}

export interface AssistantMessage {
  id: number;
  role: 'assistant';
  text: string;
  status: 'thinking' | 'streaming' | 'done' | 'stopped' | 'error';
  classification?: Classification;
  prompt?: PromptInfo;
  stopReason?: StopReason;
  error?: string;
  errorDetail?: string;
}

export type Message = UserMessage | AssistantMessage;

export type ModelState =
  | { status: 'idle' }
  | { status: 'loading'; files: FileProgress[] }
  | { status: 'ready'; info: EngineInfo }
  | { status: 'error'; message: string; detail?: string };

let nextMessageId = 1;

/** The chat screen's state: the conversation, the model's status, and the request in flight. */
export class ChatState {
  messages = $state<Message[]>([]);
  model = $state<ModelState>({ status: 'idle' });
  notice = $state<string | null>(null);
  private activeRequest = $state<number | null>(null);
  readonly busy = $derived(this.activeRequest !== null);
  private readonly client: InferenceClient;

  constructor(
    public source: ModelSource,
    spawn: () => Worker,
  ) {
    this.client = new InferenceClient(spawn, () => {
      this.model = { status: 'idle' };
      this.notice = WORKER_CRASHED;
    });
  }

  /** Loads the model (again); resolves true once it is ready. */
  loadModel(source: ModelSource = this.source): Promise<boolean> {
    this.source = source;
    this.model = { status: 'loading', files: [] };
    return new Promise((resolve) => {
      this.client.send({ type: 'load', source }, (response) => {
        if (response.type === 'progress') this.model = { status: 'loading', files: response.files };
        else if (response.type === 'loaded') {
          this.model = { status: 'ready', info: response.info };
          resolve(true);
        } else if (response.type === 'error') {
          this.model = { status: 'error', message: response.message, detail: response.detail };
          resolve(false);
        }
      });
    });
  }

  /** Completed turns, which the next prompt includes as history. */
  private history(): Turn[] {
    const turns: Turn[] = [];
    for (let i = 0; i + 1 < this.messages.length; i++) {
      const [user, reply] = [this.messages[i], this.messages[i + 1]];
      if (user.role === 'user' && reply.role === 'assistant' && reply.text && reply.status !== 'error') {
        turns.push({ user: user.text, assistant: reply.text });
      }
    }
    return turns;
  }

  async send(text: string) {
    const message = text.trim();
    if (!message || this.busy) return;
    this.notice = null;
    const history = this.history();
    this.messages.push({ id: nextMessageId++, role: 'user', text: message });
    this.messages.push({ id: nextMessageId++, role: 'assistant', text: '', status: 'thinking' });
    // Reach the reply through the state proxy so that updates render.
    const reply = this.messages.at(-1) as AssistantMessage;
    this.activeRequest = -1;
    if (this.model.status !== 'ready' && !(await this.loadModel())) {
      reply.status = 'error';
      reply.error = 'The model is not loaded, so there is no reply.';
      this.activeRequest = null;
      return;
    }
    this.activeRequest = this.client.send({ type: 'chat', history, message }, (response) => this.onReply(reply, response));
  }

  private onReply(reply: AssistantMessage, response: Response) {
    switch (response.type) {
      case 'intent':
        reply.classification = response.classification;
        reply.status = 'streaming';
        break;
      case 'prompt':
        reply.prompt = response.prompt;
        break;
      case 'token':
        reply.text += response.text;
        break;
      case 'done':
        reply.stopReason = response.stopReason;
        reply.status = response.stopReason === 'aborted' ? 'stopped' : 'done';
        this.activeRequest = null;
        break;
      case 'error':
        reply.status = 'error';
        reply.error = response.message;
        reply.errorDetail = response.detail;
        this.activeRequest = null;
        break;
    }
  }

  stop() {
    if (this.activeRequest !== null && this.activeRequest > 0) this.client.stop(this.activeRequest);
  }
}
