import {
  FOLD_STEP_TURNS,
  type ChatSettings,
  type EngineAttempt,
  type EngineInfo,
  type EnginePreference,
  type FileProgress,
  type GpuFailure,
  type GpuModelSource,
  type GroupLine,
  type ModelSource,
  type Response,
  type RouteIntent,
  type Turn,
} from '../../workers/protocol';
import { indexedLinesOf, linesOf, linesToFold } from './group-lines';
import { InferenceClient, WORKER_CRASHED } from './inference-client';
import { Library } from './library.svelte';
import { isSendable } from './limits';
import { deleteCachedModel, isMarkedLoading, storedFileUrls } from '../../workers/weights-store';
import { DEFAULT_GENERATION } from '../../workers/defaults';
import type { CatalogModel } from './model-catalog';
import type { Fit } from './model-fit';
import { choiceCatalogModel, choiceLoadModel, choiceName, choiceSource, isStored, sameChoice, saveChoice, type ModelChoice } from './model-source';
import { effectiveGeneration, loadSettings, normalizeSettings, saveSettings } from './settings';
import type { AssistantMessage, Message, Participant } from './store/types';
import { replySaver } from './reply-saver';

export type ModelState =
  | { status: 'idle' }
  | { status: 'loading'; files: FileProgress[]; stage?: string; attempt?: EngineAttempt }
  | { status: 'ready'; info: EngineInfo; reason: string; gpuFailure?: GpuFailure }
  | { status: 'error'; message: string; detail?: string }
  /** The fit check ruled the model out before any download; `overridable` offers Load anyway. */
  | { status: 'refused'; reason: string; overridable: boolean };

/**
 * A streamed reply is written to IndexedDB at most this often, and once more when it ends: two
 * writes a second, so a reload loses at most half a second of it (issue 8 allows three).
 */
const SAVE_INTERVAL_MS = 500;

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
  /** Marks the most recent load from its start, before its fit check has made `latestLoad`'s promise. */
  private latestLoadToken: object | null = null;
  /** Stop was pressed while the reply still waited for the model to load. */
  private stopRequested = false;
  // Reactive, so the model panel follows a switch of model, mirror or engine.
  /** The model chosen in the picker (or by a link): what the next load loads. */
  choice = $state<ModelChoice>() as ModelChoice;
  /** The model the worker holds, once loaded: what replies are written with. */
  loadedChoice = $state<ModelChoice | null>(null);
  /** Whether this device has a WebGPU adapter, asked once, for the fit check. */
  private hasGpuAdapter: Promise<boolean> | null = null;
  gpuSource = $state<GpuModelSource>() as GpuModelSource;
  preference = $state<EnginePreference>() as EnginePreference;
  /** Off (`?kv=off`): the worker prefills every prompt whole, for comparisons. */
  kvReuse = true;

  constructor(choice: ModelChoice, spawn: () => Worker, gpuSource: GpuModelSource, preference: EnginePreference) {
    this.choice = choice;
    this.gpuSource = gpuSource;
    this.preference = preference;
    this.client = new InferenceClient(spawn, () => {
      this.model = { status: 'idle' };
      this.loadedChoice = null;
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

  /** The transformers.js files of the chosen model, if it has any. */
  get source(): ModelSource | undefined {
    return choiceSource(this.choice);
  }

  /**
   * Loads the chosen model (again), choosing the engine anew; resolves true once it is ready. A
   * model the fit check rules out is refused before any download, unless `anyway` (Load anyway).
   */
  loadModel(choice: ModelChoice = this.choice, { anyway = false } = {}): Promise<boolean> {
    this.notice = null;
    if (!sameChoice(choice, this.choice)) {
      this.choice = choice;
      saveChoice($state.snapshot(choice), localStorage);
    }
    this.model = { status: 'loading', files: [] };
    const token = {};
    this.latestLoadToken = token;
    const isLatest = () => this.latestLoadToken === token;
    const load = (async () => {
      if (!anyway) {
        const fit = await this.fitOf(choice);
        if (!isLatest()) return false;
        if (!fit.fits) {
          this.model = { status: 'refused', reason: fit.reason, overridable: fit.overridable };
          return false;
        }
      }
      return this.startLoad(choice, isLatest);
    })();
    this.latestLoad = load;
    return load;
  }

  /**
   * Stops the load in progress (Cancel): the worker goes, and with it every byte the load held in
   * memory; what it had begun to store goes too, as it would at the next load. A model that was
   * already stored whole stays stored.
   */
  async cancelLoad() {
    if (this.model.status !== 'loading') return;
    const name = choiceName(this.choice);
    const sourceId = this.source?.id;
    this.latestLoadToken = null;
    this.client.terminate(`Loading ${name} was cancelled.`);
    this.model = { status: 'idle' };
    this.loadedChoice = null;
    this.notice = `Loading ${name} was cancelled. Load model starts it again.`;
    if (sourceId && (await isMarkedLoading(sourceId))) await deleteCachedModel(sourceId);
  }

  private startLoad(choice: ModelChoice, isLatest: () => boolean): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const snapshot = $state.snapshot(choice) as ModelChoice;
      const request = {
        type: 'load',
        model: choiceLoadModel(snapshot),
        source: choiceSource(snapshot),
        gpuSource: $state.snapshot(this.gpuSource),
        preference: this.preference,
        ...(this.kvReuse ? {} : { kvReuse: false }),
      } as const;
      this.client.send(request, (response) => {
        // A newer load cancelled this one; only the newest speaks for the model.
        if (!isLatest()) {
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
            this.loadedChoice = snapshot;
            resolve(true);
            break;
          case 'error':
            this.model = { status: 'error', message: response.message, detail: response.detail };
            this.loadedChoice = null;
            this.client.restart();
            resolve(false);
            break;
        }
      });
    });
  }

  /**
   * Whether the choice fits this device, from the catalog's sizes for the build that would run
   * (the GPU one where there is an adapter and the settings allow it) and what the browser says
   * of its memory and storage. Custom folders have no sizes to go on and are not checked.
   */
  async fitOf(choice: ModelChoice): Promise<Fit> {
    const model = choiceCatalogModel(choice);
    if (!model) return { fits: true };
    const engine = await this.expectedEngine(model);
    const build = engine === 'gpu' ? model.gpu : choice.kind === 'catalog' && choice.cpuSource ? undefined : model.cpu;
    if (!build) return { fits: true };
    const [stored, estimate] = await Promise.all([
      engine === 'cpu' && model.cpu ? storedFileUrls().then((urls) => isStored(model.cpu!.source, urls), () => false) : false,
      navigator.storage?.estimate?.().catch(() => ({}) as StorageEstimate) ?? ({} as StorageEstimate),
    ]);
    const freeBytes = estimate.quota !== undefined && estimate.usage !== undefined ? estimate.quota - estimate.usage : undefined;
    const deviceMemoryGiB = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
    // The rules of the check are a chunk of their own, fetched with the first check, after the first paint.
    const { checkFit } = await import('./model-fit');
    return checkFit({ name: model.name, engine, downloadBytes: build.downloadBytes, stored }, { deviceMemoryGiB, freeBytes });
  }

  private async expectedEngine(model: CatalogModel): Promise<'cpu' | 'gpu'> {
    if (!model.gpu || this.preference === 'wasm') return 'cpu';
    if (!model.cpu || this.preference === 'webgpu') return 'gpu';
    this.hasGpuAdapter ??= (async () => {
      try {
        return Boolean(await navigator.gpu?.requestAdapter());
      } catch {
        return false;
      }
    })();
    return (await this.hasGpuAdapter) ? 'gpu' : 'cpu';
  }

  /** The generation settings for a reply: the user's changes over the loaded model's own defaults. */
  private replySettings(): ChatSettings {
    const settings = $state.snapshot(this.activeSettings) as ChatSettings;
    const loaded = this.loadedChoice ? choiceCatalogModel(this.loadedChoice) : undefined;
    return { ...settings, generation: effectiveGeneration(settings.generation, loaded?.defaults ?? DEFAULT_GENERATION) };
  }

  /** A reply is being written with the loaded model: the conversation remembers it, to offer it again later. */
  private rememberModel() {
    const loaded = this.loadedChoice;
    const conversation = this.library.current;
    if (loaded && conversation && !(conversation.model && sameChoice(conversation.model, loaded))) {
      void this.library.setConversationModel($state.snapshot(loaded) as ModelChoice);
    }
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
    return { turns: turnsOf(messages.slice(this.memoryStartIndex(messages))), summary: conversation?.summary };
  }

  /** Where the model's memory starts in `messages`: at the first message after the summary's end, or at the first. */
  private memoryStartIndex(messages: readonly Message[]): number {
    const id = this.library.current?.memoryStart;
    return id ? Math.max(0, messages.findIndex((m) => m.id === id)) : 0;
  }

  async send(text: string) {
    if (this.library.current?.group) return this.sendGroup(text, false);
    const message = text.trim();
    if (!isSendable(message) || this.busy) return;
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
    // In a group, Regenerate asks for a reply: the decision it replaces was already made.
    if (this.library.current?.group) return this.requestGroupReply(reply, index - 1, true);
    await this.requestReply(reply, this.memory(index - 1), user.text, 'auto');
  }

  /** Replaces a user message's text and answers it anew; the turns after it are removed. */
  async editAndResend(userId: string, text: string) {
    const message = text.trim();
    const messages = this.library.messages;
    const index = messages.findIndex((m) => m.id === userId);
    const user = messages[index];
    if (!isSendable(message) || this.busy || user?.role !== 'user') return;
    this.activeRequest = -1;
    const later = messages.slice(index + 1);
    const reply = later[0]?.role === 'assistant' ? later[0] : null;
    await this.library.deleteMessages(later.slice(reply ? 1 : 0).map((m) => m.id));
    user.text = message;
    await this.library.save(user);
    const target =
      reply ?? ((await this.library.add({ id: crypto.randomUUID(), role: 'assistant', text: '', status: 'thinking', createdAt: user.createdAt + 1, updatedAt: Date.now() })) as AssistantMessage);
    this.resetReply(target);
    if (this.library.current?.group) return this.requestGroupReply(target, index, false);
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
    for (const key of ['classification', 'decision', 'prompt', 'stopReason', 'error', 'errorDetail', 'stats'] as const) delete reply[key];
    Object.assign(reply, { text: '', status: 'thinking' });
  }

  /** The participant the next group message is sent as. */
  speakerId = $state<string | null>(null);

  /** Who sends the next message in the open group conversation: the chosen participant, else the first. */
  get speaker(): Participant | null {
    const participants = this.library.current?.group?.participants ?? [];
    return participants.find((p) => p.id === this.speakerId) ?? participants[0] ?? null;
  }

  /**
   * A participant's message in a group conversation; the assistant then decides whether to speak,
   * or, with `force` (Ask the assistant), replies in any case.
   */
  async sendGroup(text: string, force: boolean) {
    const message = text.trim();
    const speaker = this.speaker;
    if (!isSendable(message) || this.busy || !speaker) return;
    const now = Date.now();
    this.activeRequest = -1;
    const user = await this.library.add({ id: crypto.randomUUID(), role: 'user', text: message, speaker: { ...speaker }, createdAt: now, updatedAt: now });
    const reply = (await this.library.add({ id: crypto.randomUUID(), role: 'assistant', text: '', status: 'thinking', createdAt: now + 1, updatedAt: now + 1 })) as AssistantMessage;
    void this.library.askPersistence();
    await this.requestGroupReply(reply, this.library.messages.indexOf(user), force);
  }

  /** Ask the assistant: with text, sends it and has the assistant reply; without, replies in place of the last silence. */
  async askAssistant(text: string) {
    if (text.trim()) return this.sendGroup(text, true);
    const last = this.library.messages.at(-1);
    if (last?.role === 'assistant' && last.decision?.speak === false) await this.regenerate(last.id);
  }

  /**
   * Makes `reply` the one being written: saved as it grows (`saver`), and once more by the `end`
   * it returns, which also frees the model for the next request.
   */
  private beginReply(reply: AssistantMessage) {
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
    return { saver, end };
  }

  /** Ends `reply` on the worker's final `done` or `error`; `afterDone` runs once it is saved. */
  private settleReply(reply: AssistantMessage, response: Extract<Response, { type: 'done' | 'error' }>, end: () => Promise<void>, afterDone: () => void) {
    if (response.type === 'done') {
      reply.stopReason = response.stopReason;
      reply.stats = response.stats;
      reply.status = response.stopReason === 'aborted' ? 'stopped' : 'done';
      void end().then(afterDone);
      return;
    }
    // A lost GPU cuts the reply short: its text is kept, marked, and can be regenerated.
    reply.status = response.deviceLost ? 'interrupted' : 'error';
    reply.error = response.message;
    reply.errorDetail = response.detail;
    void end();
    if (response.deviceLost) this.reloadAfterDeviceLoss();
  }

  /** Decides and maybe replies to the group message at `messageIndex`, from the lines before it. */
  private async requestGroupReply(reply: AssistantMessage, messageIndex: number, force: boolean) {
    // The rules for the assistant's speaker name (Unicode folding) are a chunk of their own: group chats only.
    const { speakerName } = await import('../../workers/prompt');
    const conversation = this.library.current!;
    const participants = conversation.group!.participants;
    const settings = $state.snapshot(this.activeSettings);
    const bot = speakerName(settings.persona);
    const messages = this.library.messages;
    const start = this.memoryStartIndex(messages);
    const [message] = linesOf([messages[messageIndex]], participants, bot);
    const indexed = indexedLinesOf(messages.slice(start, messageIndex), participants, bot);
    const history = indexed.map(({ line }) => line);
    const { saver, end } = this.beginReply(reply);
    const ready = await this.modelReady();
    if (this.stopRequested || !ready) {
      Object.assign(reply, this.stopRequested ? { status: 'stopped', stopReason: 'aborted' } : { status: 'error', error: 'The model is not loaded, so there is no reply.' });
      return end();
    }
    const { info } = this.model as { info: EngineInfo };
    reply.engine = describeEngine(info);
    reply.model = info.model;
    this.rememberModel();
    this.activeRequest = this.client.send(
      { type: 'group-chat', participants: participants.map((p) => p.name), history, summary: conversation.summary, message, settings: { ...settings, generation: this.replySettings().generation }, force },
      (response: Response) => {
        switch (response.type) {
          case 'decision':
            reply.decision = response.decision;
            reply.prompt = response.prompt;
            if (response.decision.speak) reply.status = 'streaming';
            saver.changed();
            break;
          case 'prompt':
            reply.prompt = response.prompt;
            break;
          case 'token':
            reply.text += response.text;
            saver.changed(true);
            break;
          case 'done':
          case 'error':
            this.settleReply(reply, response, end, () => this.foldOldGroupLines(indexed, messages[messageIndex].id, reply));
            break;
        }
      },
    );
  }

  /** As `foldOldTurns`, for the lines of a group conversation that its last prompt left out. */
  private foldOldGroupLines(indexed: { line: GroupLine; messageId: string }[], messageId: string, reply: AssistantMessage) {
    const used = reply.prompt?.turnsUsed;
    const conversation = this.library.current;
    if (used === undefined || this.busy || !conversation?.group) return;
    const messages = this.library.messages;
    const { lines: dropped, next } = linesToFold(indexed, used, new Set(messages.slice(this.memoryStartIndex(messages)).map((m) => m.id)));
    if (dropped.length === 0) return;
    const conversationId = conversation.id;
    const nextStart = next ?? messageId;
    const participants = conversation.group.participants.map((p) => p.name);
    const before = conversation.summary;
    let summary = '';
    this.summarizing = this.client.send(
      {
        type: 'summarize',
        summary: before,
        turns: [],
        persona: $state.snapshot(this.activeSettings.persona),
        group: { lines: dropped, participants },
      },
      (response) => {
        if (response.type === 'summary') summary = response.text;
        if (response.type === 'done' || response.type === 'error') this.summarizing = null;
        if (response.type === 'error' && response.deviceLost) this.reloadAfterDeviceLoss();
        // Another summary saved meanwhile holds some of these lines already: this one is stale.
        if (response.type === 'done' && response.stopReason === 'end' && summary && this.library.currentId === conversationId && this.library.current?.summary === before) {
          void this.library.setMemory(summary, nextStart);
        }
      },
    );
  }

  /** Streams a reply into `reply`, saving it as it grows and once more when it ends. */
  private async requestReply(
    reply: AssistantMessage,
    memory: { turns: IndexedTurn[]; summary?: string },
    message: string,
    intent: RouteIntent | 'auto',
    continuation?: { text: string; route: RouteIntent },
  ) {
    const { saver, end } = this.beginReply(reply);
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
    this.rememberModel();
    const history = memory.turns.map((t) => t.turn);
    this.activeRequest = this.client.send(
      { type: 'chat', history, summary: memory.summary, message, settings: this.replySettings(), intent, continuation },
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
          case 'error':
            this.settleReply(reply, response, end, () => this.foldOldTurns(memory, reply));
            break;
        }
      },
    );
  }

  /**
   * The oldest turns the reply's prompt marked for folding go into the running summary, written by
   * the model while nothing else runs, a few turns per step. Each step is saved as it ends (the
   * summary, and the memory marker moved to the first turn still read whole), so a new message,
   * which cancels the step in flight, loses only that step, and the next reply goes on from there.
   */
  private foldOldTurns(memory: { turns: IndexedTurn[]; summary?: string }, reply: AssistantMessage) {
    const fold = reply.prompt?.foldTurns ?? 0;
    if (fold <= 0 || this.busy) return;
    const userIndex = this.library.messages.indexOf(reply) - 1;
    // A fold step may have ended and been saved after `memory` was read for this reply (between
    // the send and the worker taking the stop): go on from the memory as saved now, less the turns
    // that step already folded, rather than from the stale one, which the chain would refuse.
    const now = this.memory(userIndex);
    const alreadyFolded = Math.max(0, memory.turns.length - now.turns.length);
    this.foldStep(this.library.currentId, now.turns, Math.min(fold - alreadyFolded, now.turns.length), now.summary, this.library.messages[userIndex]?.id);
  }

  private foldStep(conversationId: string | null, turns: IndexedTurn[], remaining: number, summary: string | undefined, replyStart: string | undefined) {
    // Another summary was saved meanwhile (this conversation changed under us): this chain is stale.
    if (remaining <= 0 || this.busy || this.library.currentId !== conversationId || this.library.current?.summary !== summary) return;
    const step = turns.slice(0, Math.min(remaining, FOLD_STEP_TURNS));
    let text = '';
    let folded = step.length;
    this.summarizing = this.client.send(
      { type: 'summarize', summary, turns: step.map((t) => t.turn), persona: $state.snapshot(this.activeSettings.persona) },
      (response) => {
        if (response.type === 'summary') {
          text = response.text;
          folded = response.folded ?? folded;
        }
        if (response.type === 'done' || response.type === 'error') this.summarizing = null;
        if (response.type === 'error' && response.deviceLost) this.reloadAfterDeviceLoss();
        if (response.type === 'done' && response.stopReason === 'end' && text && this.library.currentId === conversationId && this.library.current?.summary === summary) {
          const rest = turns.slice(folded);
          void this.library.setMemory(text, rest[0]?.userId ?? replyStart).then(() => this.foldStep(conversationId, rest, remaining - folded, text, replyStart));
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
