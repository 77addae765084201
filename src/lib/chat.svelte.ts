import { turnsToSummarize } from '../../workers/prompt';
import type {
  ChatSettings,
  EngineAttempt,
  EngineInfo,
  EnginePreference,
  FileProgress,
  GpuFailure,
  GpuModelSource,
  ModelSource,
  Response,
  RouteIntent,
  Turn,
} from '../../workers/protocol';
import { InferenceClient, WORKER_CRASHED } from './inference-client';
import { Library } from './library.svelte';
import { loadSettings, normalizeSettings, saveSettings } from './settings';
import type { AssistantMessage, Message } from './store/types';
import { replySaver } from './reply-saver';

export type ModelState =
  | { status: 'idle' }
  | { status: 'loading'; files: FileProgress[]; stage?: string; attempt?: EngineAttempt }
  | { status: 'ready'; info: EngineInfo; reason: string; gpuFailure?: GpuFailure }
  | { status: 'error'; message: string; detail?: string };

/** A streamed reply is written to IndexedDB at most this often, and once more when it ends. */
const SAVE_INTERVAL_MS = 300;

/** A completed turn and the id of the message that opened it. */
export interface IndexedTurn {
  turn: Turn;
  userId: string;
}

/** Completed turns, in order, for the next prompt's history. */
export function turnsOf(messages: readonly Message[]): IndexedTurn[] {
  const turns: IndexedTurn[] = [];
  for (let i = 0; i + 1 < messages.length; i++) {
    const [user, reply] = [messages[i], messages[i + 1]];
    if (user.role === 'user' && reply.role === 'assistant' && reply.text && reply.status !== 'error') {
      turns.push({ turn: { user: user.text, assistant: reply.text }, userId: user.id });
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
  settings = $state<ChatSettings>(loadSettings(localStorage));
  /** The user's choice of intent for the next message only; `auto` lets the classifier decide. */
  nextIntent = $state<RouteIntent | 'auto'>('auto');
  model = $state<ModelState>({ status: 'idle' });
  notice = $state<string | null>(null);
  private activeRequest = $state<number | null>(null);
  /** The model writes one reply at a time, in whichever conversation asked for it. */
  readonly busy = $derived(this.activeRequest !== null);
  /** The conversation the reply in flight belongs to; null before it has one (a first message). */
  private activeConversation = $state<string | null>(null);
  /** The reply in flight belongs to the open conversation: its composer offers Stop. */
  readonly busyHere = $derived(this.busy && (this.activeConversation === null || this.activeConversation === this.library.currentId));
  /** The reply in flight belongs to another conversation, shown here so the user can get to it. */
  readonly replyingIn = $derived(this.busyHere ? null : (this.library.conversations.find((c) => c.id === this.activeConversation) ?? null));
  private readonly client: InferenceClient;
  /** A summary being written while the worker is otherwise idle; a new message cancels it. */
  private summarizing: number | null = null;
  /** The most recent load; an older one still running has been cancelled by it. */
  private latestLoad: Promise<boolean> | null = null;
  /** Stop was pressed while the reply still waited for the model to load. */
  private stopRequested = false;
  // Reactive, so the model panel follows a switch of model, mirror or engine.
  source = $state<ModelSource>() as ModelSource;
  gpuSource = $state<GpuModelSource>() as GpuModelSource;
  preference = $state<EnginePreference>() as EnginePreference;

  constructor(source: ModelSource, spawn: () => Worker, gpuSource: GpuModelSource, preference: EnginePreference) {
    this.source = source;
    this.gpuSource = gpuSource;
    this.preference = preference;
    this.client = new InferenceClient(spawn, () => {
      this.model = { status: 'idle' };
      this.notice = WORKER_CRASHED;
    });
    // Nobody can see a reply whose conversation is gone (deleted here or in another tab): it stops at once.
    this.library.onRemoved((id) => {
      if (id === this.activeConversation) this.stop();
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
      this.client.send({ type: 'load', source: $state.snapshot(source), gpuSource: $state.snapshot(this.gpuSource), preference: this.preference }, (response) => {
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

  /** What the next reply uses: the open conversation's own settings, else the app-wide ones. */
  get activeSettings(): ChatSettings {
    return this.library.current?.settings ?? this.settings;
  }

  get conversationHasOwnSettings(): boolean {
    return Boolean(this.library.current?.settings);
  }

  /** Saves the settings being edited, wherever they belong, clamped to their ranges first. */
  saveSettings() {
    const conversation = this.library.current;
    const settings = normalizeSettings($state.snapshot(this.activeSettings));
    if (conversation?.settings) {
      conversation.settings = settings;
      void this.library.setConversationSettings(settings);
    } else {
      this.settings = settings;
      saveSettings(settings, localStorage);
    }
  }

  /** Starts this conversation off with a copy of the app-wide settings, or drops its own. */
  useOwnSettings(own: boolean) {
    void this.library.setConversationSettings(own ? $state.snapshot(this.settings) : null);
  }

  /** The turns the model still reads verbatim: those after the summary's end, before `end`. */
  private memory(end = this.library.messages.length): { turns: IndexedTurn[]; summary?: string } {
    const conversation = this.library.current;
    const messages = this.library.messages.slice(0, end);
    const start = conversation?.memoryStart ? messages.findIndex((m) => m.id === conversation.memoryStart) : -1;
    return { turns: turnsOf(start >= 0 ? messages.slice(start) : messages), summary: conversation?.summary };
  }

  async send(text: string) {
    const message = text.trim();
    if (!message || this.busy) return;
    const memory = this.memory();
    const now = Date.now();
    this.activeRequest = -1;
    await this.library.add({ id: crypto.randomUUID(), role: 'user', text: message, createdAt: now, updatedAt: now });
    const reply = (await this.library.add({ id: crypto.randomUUID(), role: 'assistant', text: '', status: 'thinking', createdAt: now + 1, updatedAt: now + 1 })) as AssistantMessage;
    void this.library.askPersistence();
    const intent = this.nextIntent;
    this.nextIntent = 'auto';
    await this.requestReply(reply, memory, message, intent);
  }

  /** Writes a reply again, in its place, from the same message and the turns before it. */
  async regenerate(replyId: string) {
    const messages = this.library.messages;
    const index = messages.findIndex((m) => m.id === replyId);
    const user = messages[index - 1];
    const reply = messages[index];
    if (this.busy || user?.role !== 'user' || reply?.role !== 'assistant') return;
    this.activeRequest = -1;
    this.resetReply(reply);
    await this.requestReply(reply, this.memory(index - 1), user.text, 'auto');
  }

  /** Replaces a user message's text and answers it anew; the turns after it are removed. */
  async editAndResend(userId: string, text: string) {
    const message = text.trim();
    const messages = this.library.messages;
    const index = messages.findIndex((m) => m.id === userId);
    const user = messages[index];
    if (!message || this.busy || user?.role !== 'user') return;
    this.activeRequest = -1;
    const later = messages.slice(index + 1);
    const reply = later[0]?.role === 'assistant' ? later[0] : null;
    await this.library.deleteMessages(later.slice(reply ? 1 : 0).map((m) => m.id));
    user.text = message;
    await this.library.save(user);
    const target =
      reply ?? ((await this.library.add({ id: crypto.randomUUID(), role: 'assistant', text: '', status: 'thinking', createdAt: user.createdAt + 1, updatedAt: Date.now() })) as AssistantMessage);
    this.resetReply(target);
    await this.requestReply(target, this.memory(index), message, 'auto');
  }

  async deleteMessage(id: string) {
    if (this.busy) return;
    await this.library.deleteMessages([id]);
  }

  /** Carries on a reply that was cut at the token limit, appending to it. */
  async continueReply(replyId: string) {
    const messages = this.library.messages;
    const index = messages.findIndex((m) => m.id === replyId);
    const user = messages[index - 1];
    const reply = messages[index];
    if (this.busy || user?.role !== 'user' || reply?.role !== 'assistant' || !reply.text) return;
    this.activeRequest = -1;
    const route = reply.classification?.route ?? 'general';
    reply.status = 'thinking';
    delete reply.stopReason;
    await this.requestReply(reply, this.memory(index - 1), user.text, 'auto', { text: reply.text, route });
  }

  private resetReply(reply: AssistantMessage) {
    for (const key of ['classification', 'prompt', 'stopReason', 'error', 'errorDetail', 'stats'] as const) delete reply[key];
    Object.assign(reply, { text: '', status: 'thinking' });
  }

  /** Streams a reply into `reply`, saving it as it grows and once more when it ends. */
  private async requestReply(
    reply: AssistantMessage,
    memory: { turns: IndexedTurn[]; summary?: string },
    message: string,
    intent: RouteIntent | 'auto',
    continuation?: { text: string; route: RouteIntent },
  ) {
    this.notice = null;
    if (this.summarizing !== null) this.client.stop(this.summarizing);
    const saver = replySaver(() => void this.library.save(reply), SAVE_INTERVAL_MS);
    this.activeConversation = reply.conversationId;
    let finish!: () => void;
    this.library.holdReply(reply, new Promise<void>((resolve) => (finish = resolve)));
    const end = async () => {
      saver.cancel();
      await this.library.save(reply);
      this.activeRequest = null;
      this.activeConversation = null;
      finish();
    };

    this.stopRequested = false;
    const ready = await this.modelReady();
    if (this.stopRequested) {
      reply.status = 'stopped';
      reply.stopReason = 'aborted';
      return end();
    }
    if (!ready) {
      reply.status = 'error';
      reply.error = 'The model is not loaded, so there is no reply.';
      return end();
    }
    const { info } = this.model as { info: EngineInfo };
    reply.engine = describeEngine(info);
    reply.model = info.model;
    const history = memory.turns.map((t) => t.turn);
    this.activeRequest = this.client.send(
      { type: 'chat', history, summary: memory.summary, message, settings: $state.snapshot(this.activeSettings), intent, continuation },
      (response: Response) => {
        switch (response.type) {
          case 'intent':
            reply.classification = response.classification;
            reply.status = 'streaming';
            saver.changed();
            break;
          case 'prompt':
            reply.prompt = response.prompt;
            reply.status = 'streaming';
            break;
          case 'token':
            reply.text += response.text;
            saver.changed(true);
            break;
          case 'done':
            reply.stopReason = response.stopReason;
            reply.stats = response.stats;
            reply.status = response.stopReason === 'aborted' ? 'stopped' : 'done';
            void end().then(() => this.foldOldTurns(memory, reply));
            break;
          case 'error':
            // A lost GPU cuts the reply short: its text is kept, marked, and can be regenerated.
            reply.status = response.deviceLost ? 'interrupted' : 'error';
            reply.error = response.message;
            reply.errorDetail = response.detail;
            void end();
            if (response.deviceLost) this.reloadAfterDeviceLoss();
            break;
        }
      },
    );
  }

  /**
   * Turns the reply's prompt had to leave out are folded into the running summary, written by the
   * model while nothing else runs; the memory marker then moves to the first turn still read whole.
   */
  private foldOldTurns(memory: { turns: IndexedTurn[]; summary?: string }, reply: AssistantMessage) {
    const used = reply.prompt?.turnsUsed;
    if (used === undefined || this.busy) return;
    const dropped = turnsToSummarize(memory.turns.map((t) => t.turn), used);
    if (dropped.length === 0) return;
    const conversationId = this.library.currentId;
    const nextStart = memory.turns[dropped.length]?.userId ?? this.library.messages[this.library.messages.indexOf(reply) - 1]?.id;
    let summary = '';
    this.summarizing = this.client.send(
      { type: 'summarize', summary: memory.summary, turns: dropped, persona: $state.snapshot(this.activeSettings.persona) },
      (response) => {
        if (response.type === 'summary') summary = response.text;
        if (response.type === 'done' || response.type === 'error') this.summarizing = null;
        if (response.type === 'error' && response.deviceLost) this.reloadAfterDeviceLoss();
        if (response.type === 'done' && response.stopReason === 'end' && summary && this.library.currentId === conversationId) {
          void this.library.setMemory(summary, nextStart);
        }
      },
    );
  }

  /** The engine died with its GPU device (in a reply or a summary): load again at once, so the next message or Regenerate finds it ready. */
  private reloadAfterDeviceLoss() {
    void this.loadModel();
  }

  stop() {
    if (this.activeRequest === null) return;
    // Still waiting for the model: the reply ends as stopped once the wait is over.
    if (this.activeRequest < 0) this.stopRequested = true;
    else this.client.stop(this.activeRequest);
  }
}
