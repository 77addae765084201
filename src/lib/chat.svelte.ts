import type { EngineInfo, FileProgress, ModelSource, Response, Turn } from '../../workers/protocol';
import { InferenceClient, WORKER_CRASHED } from './inference-client';
import { Library } from './library.svelte';
import type { AssistantMessage, Message } from './store/types';
import { throttle } from './throttle';

export type ModelState =
  | { status: 'idle' }
  | { status: 'loading'; files: FileProgress[] }
  | { status: 'ready'; info: EngineInfo }
  | { status: 'error'; message: string; detail?: string };

/** A streamed reply is written to IndexedDB at most this often, and once more when it ends. */
const SAVE_INTERVAL_MS = 300;

/** Completed turns, in order, for the next prompt's history. */
export function turnsOf(messages: readonly Message[]): Turn[] {
  const turns: Turn[] = [];
  for (let i = 0; i + 1 < messages.length; i++) {
    const [user, reply] = [messages[i], messages[i + 1]];
    if (user.role === 'user' && reply.role === 'assistant' && reply.text && reply.status !== 'error') {
      turns.push({ user: user.text, assistant: reply.text });
    }
  }
  return turns;
}

/** The chat screen's state: the model's status and the reply in flight, over the stored conversations. */
export class ChatState {
  readonly library = new Library();
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

  get messages(): Message[] {
    return this.library.messages;
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

  async send(text: string) {
    const message = text.trim();
    if (!message || this.busy) return;
    this.notice = null;
    this.activeRequest = -1;
    const history = turnsOf(this.library.messages);
    const now = Date.now();
    await this.library.add({ id: crypto.randomUUID(), role: 'user', text: message, createdAt: now, updatedAt: now });
    const reply = (await this.library.add({
      id: crypto.randomUUID(),
      role: 'assistant',
      text: '',
      status: 'thinking',
      createdAt: now + 1,
      updatedAt: now + 1,
    })) as AssistantMessage;
    void this.library.askPersistence();

    const saver = throttle(() => void this.library.save(reply), SAVE_INTERVAL_MS);
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    this.library.holdReply(reply.id, finished);
    const end = async () => {
      saver.flush();
      await this.library.save(reply);
      this.activeRequest = null;
      finish();
    };

    if (this.model.status !== 'ready' && !(await this.loadModel())) {
      reply.status = 'error';
      reply.error = 'The model is not loaded, so there is no reply.';
      return end();
    }
    const info = (this.model as { info: EngineInfo }).info;
    reply.engine = `${info.engine} · ${info.device} · ${info.dtype}`;
    reply.model = info.model;
    this.activeRequest = this.client.send({ type: 'chat', history, message }, (response: Response) => {
      switch (response.type) {
        case 'intent':
          reply.classification = response.classification;
          reply.status = 'streaming';
          saver.schedule();
          break;
        case 'prompt':
          reply.prompt = response.prompt;
          break;
        case 'token':
          reply.text += response.text;
          saver.schedule();
          break;
        case 'done':
          reply.stopReason = response.stopReason;
          reply.status = response.stopReason === 'aborted' ? 'stopped' : 'done';
          void end();
          break;
        case 'error':
          reply.status = 'error';
          reply.error = response.message;
          reply.errorDetail = response.detail;
          void end();
          break;
      }
    });
  }

  stop() {
    if (this.activeRequest !== null && this.activeRequest > 0) this.client.stop(this.activeRequest);
  }
}
