import type {
  Classification,
  EngineAttempt,
  EngineInfo,
  EnginePreference,
  FileProgress,
  GpuFailure,
  GpuModelSource,
  ModelSource,
  PromptInfo,
  Response,
  StopReason,
  Turn,
} from '../../workers/protocol';
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
  /** `interrupted`: the GPU was lost mid-reply; the text so far is kept and can be regenerated. */
  status: 'thinking' | 'streaming' | 'done' | 'stopped' | 'interrupted' | 'error';
  classification?: Classification;
  prompt?: PromptInfo;
  stopReason?: StopReason;
  error?: string;
  errorDetail?: string;
}

export type Message = UserMessage | AssistantMessage;

export type ModelState =
  | { status: 'idle' }
  | { status: 'loading'; files: FileProgress[]; stage?: string; attempt?: EngineAttempt }
  | { status: 'ready'; info: EngineInfo; reason: string; gpuFailure?: GpuFailure }
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

  /** Completed turns before message `end`, which a prompt includes as history. */
  private history(end = this.messages.length): Turn[] {
    const turns: Turn[] = [];
    for (let i = 0; i + 1 < end; i++) {
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
    await this.requestReply(this.messages.at(-1) as AssistantMessage, history, message);
  }

  /** Writes a reply again, in its place, from the same message and the turns before it. */
  async regenerate(replyId: number) {
    const index = this.messages.findIndex((m) => m.id === replyId);
    const user = this.messages[index - 1];
    const reply = this.messages[index];
    if (this.busy || user?.role !== 'user' || reply?.role !== 'assistant') return;
    this.notice = null;
    Object.assign(reply, { text: '', status: 'thinking', classification: undefined, prompt: undefined, stopReason: undefined, error: undefined, errorDetail: undefined });
    await this.requestReply(reply, this.history(index - 1), user.text);
  }

  private async requestReply(reply: AssistantMessage, history: Turn[], message: string) {
    this.activeRequest = -1;
    if (!(await this.modelReady())) {
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
        reply.status = response.deviceLost ? 'interrupted' : 'error';
        reply.error = response.message;
        reply.errorDetail = response.detail;
        this.activeRequest = null;
        // The engine died with the GPU device: load again at once, so Regenerate finds it ready.
        if (response.deviceLost) void this.loadModel();
        break;
    }
  }

  stop() {
    if (this.activeRequest !== null && this.activeRequest > 0) this.client.stop(this.activeRequest);
  }
}
