import type {
  EngineAttempt,
  EngineInfo,
  EnginePreference,
  FileProgress,
  GpuFailure,
  GpuModelSource,
  ModelSource,
  Response,
  Turn,
} from '../../workers/protocol';
import { InferenceClient, WORKER_CRASHED } from './inference-client';
import { Library } from './library.svelte';
import type { AssistantMessage, Message } from './store/types';
import { throttle } from './throttle';

export type ModelState =
  | { status: 'idle' }
  | { status: 'loading'; files: FileProgress[]; stage?: string; attempt?: EngineAttempt }
  | { status: 'ready'; info: EngineInfo; reason: string; gpuFailure?: GpuFailure }
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

/** What produced a reply, as stored with it: engine, device and weights. */
function describeEngine(info: EngineInfo): string {
  return info.engine === 'webllm' ? `webllm · webgpu · ${info.quantization}` : `${info.engine} · ${info.device} · ${info.dtype}`;
}

/** The chat screen's state: the model's status and the reply in flight, over the stored conversations. */
export class ChatState {
  readonly library = new Library();
  model = $state<ModelState>({ status: 'idle' });
  notice = $state<string | null>(null);
  private activeRequest = $state<number | null>(null);
  readonly busy = $derived(this.activeRequest !== null);
  private readonly client: InferenceClient;
  /** The most recent load; an older one still running has been cancelled by it. */
  private latestLoad: Promise<boolean> | null = null;

  constructor(
    public source: ModelSource,
    spawn: () => Worker,
    public gpuSource: GpuModelSource,
    public preference: EnginePreference,
  ) {
    this.client = new InferenceClient(spawn, () => {
      this.model = { status: 'idle' };
      this.notice = WORKER_CRASHED;
    });
  }

  get messages(): Message[] {
    return this.library.messages;
  }

  /** Loads the model (again), choosing the engine anew; resolves true once it is ready. */
  loadModel(source: ModelSource = this.source): Promise<boolean> {
    this.source = source;
    this.model = { status: 'loading', files: [] };
    const load = new Promise<boolean>((resolve) => {
      this.client.send({ type: 'load', source, gpuSource: this.gpuSource, preference: this.preference }, (response) => {
        // A newer load cancelled this one; only the newest speaks for the model.
        if (load !== this.latestLoad) {
          if (response.type === 'loaded' || response.type === 'error') resolve(false);
          return;
        }
        switch (response.type) {
          case 'attempt':
            this.model = { status: 'loading', files: [], attempt: response.attempt };
            break;
          case 'progress':
            if (this.model.status === 'loading') this.model = { ...this.model, files: response.files, stage: response.stage };
            break;
          case 'loaded':
            this.model = { status: 'ready', info: response.info, reason: response.reason, gpuFailure: response.gpuFailure };
            resolve(true);
            break;
          case 'error':
            this.model = { status: 'error', message: response.message, detail: response.detail };
            resolve(false);
            break;
        }
      });
    });
    this.latestLoad = load;
    return load;
  }

  /** Waits for a load in progress (and for any load that replaces it), or starts one. */
  private async modelReady(): Promise<boolean> {
    if (this.model.status === 'ready') return true;
    if (this.model.status !== 'loading' || !this.latestLoad) return this.loadModel();
    let load: Promise<boolean>;
    let ready: boolean;
    do {
      load = this.latestLoad;
      ready = await load;
    } while (load !== this.latestLoad);
    return ready;
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
    await this.requestReply(reply, history, message);
  }

  /** Writes a reply again, in its place, from the same message and the turns before it. */
  async regenerate(replyId: string) {
    const messages = this.library.messages;
    const index = messages.findIndex((m) => m.id === replyId);
    const user = messages[index - 1];
    const reply = messages[index];
    if (this.busy || user?.role !== 'user' || reply?.role !== 'assistant') return;
    this.notice = null;
    this.activeRequest = -1;
    for (const key of ['classification', 'prompt', 'stopReason', 'error', 'errorDetail'] as const) delete reply[key];
    Object.assign(reply, { text: '', status: 'thinking' });
    await this.requestReply(reply, turnsOf(messages.slice(0, index - 1)), user.text);
  }

  /** Streams a reply into `reply`, saving it as it grows and once more when it ends. */
  private async requestReply(reply: AssistantMessage, history: Turn[], message: string) {
    const saver = throttle(() => void this.library.save(reply), SAVE_INTERVAL_MS);
    let finish!: () => void;
    this.library.holdReply(reply.id, new Promise<void>((resolve) => (finish = resolve)));
    const end = async () => {
      saver.flush();
      await this.library.save(reply);
      this.activeRequest = null;
      finish();
    };

    if (!(await this.modelReady())) {
      reply.status = 'error';
      reply.error = 'The model is not loaded, so there is no reply.';
      return end();
    }
    const { info } = this.model as { info: EngineInfo };
    reply.engine = describeEngine(info);
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
          // A lost GPU cuts the reply short: its text is kept, marked, and can be regenerated.
          reply.status = response.deviceLost ? 'interrupted' : 'error';
          reply.error = response.message;
          reply.errorDetail = response.detail;
          void end();
          // The engine died with the GPU device: load again at once, so Regenerate finds it ready.
          if (response.deviceLost) void this.loadModel();
          break;
      }
    });
  }

  stop() {
    if (this.activeRequest !== null && this.activeRequest > 0) this.client.stop(this.activeRequest);
  }
}
