import { reply, summarize } from './chat';
import type { Engine } from './engine';
import { chooseEngine, type GpuProbe } from './engine-select';
import { groupReply, summarizeGroup } from './group-chat';
import { describeError, ExplainedError, GpuDeviceLostError, LoadCancelledError } from './errors';
import { textBatches } from './text-batches';
import type { ChatRequest, EngineInfo, GroupChatRequest, GpuFailure, LoadRequest, ModelSource, Request, Response, SummarizeRequest } from './protocol';
import { variantLabel, type WebLLMModel } from './webllm-models';

/** How the handler gets its engines; WebLLM comes as a promise because its library loads on demand. */
export interface EngineFactory {
  /** `kvReuse: false` makes every request a full prefill, for comparisons. */
  transformers(options: { kvReuse: boolean }): Engine<ModelSource>;
  webllm(): Promise<Engine<WebLLMModel>>;
}

/** A reply's text goes to the UI at most this often, about once a frame (see `textBatches`). */
const TEXT_INTERVAL_MS = 16;

interface LoadedEngine {
  engine: Engine<unknown>;
  info: EngineInfo;
  reason: string;
  gpuFailure?: GpuFailure;
  /** The load request it answers, to recognise a repeat of it. */
  key: string;
}

/**
 * The worker's side of the protocol. Requests run one at a time in arrival order (one model, one
 * forward pass at a time), except `stop`, which acts at once, and `load`, which also cancels the
 * loads before it. Every load and chat request gets exactly one final `loaded`/`done` or `error`,
 * and at most one engine is ever loaded: the old one is unloaded before the next one loads.
 */
export function createHandler(
  { engines, probeGpu }: { engines: EngineFactory; probeGpu: () => Promise<GpuProbe> },
  post: (response: Response) => void,
) {
  let current: LoadedEngine | null = null;
  let gpuLosses = 0;
  let queue: Promise<void> = Promise.resolve();
  const running = new Map<number, AbortController>();
  const loads = new Set<AbortController>();

  async function unloadCurrent() {
    const engine = current?.engine;
    current = null;
    await engine?.unload();
  }

  async function load(request: LoadRequest, signal: AbortSignal) {
    const { id } = request;
    const key = JSON.stringify([request.model, request.source, request.gpuSource, request.preference, request.kvReuse !== false]);
    if (current?.key === key) {
      post({ id, type: 'loaded', info: current.info, reason: current.reason, gpuFailure: current.gpuFailure });
      return;
    }
    // Never keep two models in memory: free the old one before fetching the new one.
    await unloadCurrent();

    const start = async <Source>(engine: Engine<Source>, source: Source, reason: string, gpuFailure?: GpuFailure) => {
      if (signal.aborted) throw new LoadCancelledError();
      try {
        const info = await engine.load(source, (files, stage) => post({ id, type: 'progress', files, stage }), signal);
        if (signal.aborted) throw new LoadCancelledError();
        current = { engine, info, reason, gpuFailure, key };
        post({ id, type: 'loaded', info, reason, gpuFailure });
      } catch (error) {
        await engine.unload();
        throw signal.aborted ? new LoadCancelledError() : error;
      }
    };

    const { model } = request;
    const choice = await chooseEngine(request.preference, probeGpu, gpuLosses, { name: model.name, variants: model.gpuVariants });
    if (choice.engine === 'none') {
      throw new ExplainedError(
        `${model.name} cannot run on the GPU here: ${choice.reason}.${request.source ? ' Choose Auto or CPU (WASM) to run it on the CPU.' : ''}`,
      );
    }
    let gpuFailure: GpuFailure | undefined;
    if (choice.engine === 'webllm') {
      const label = variantLabel(choice.variant);
      post({ id, type: 'attempt', attempt: { engine: 'webllm', variant: label, reason: choice.reason } });
      try {
        await start(await engines.webllm(), { variant: choice.variant, source: request.gpuSource }, choice.reason);
        return;
      } catch (error) {
        if (signal.aborted) throw new LoadCancelledError();
        const { message, detail } = describeError(error);
        if (request.preference === 'webgpu' || !request.source) {
          const advice = request.source ? ' Choose Auto or CPU (WASM) to run it on the CPU.' : ` ${model.name} has no CPU build.`;
          throw new ExplainedError(`${label} did not load on the GPU: ${message}${advice}`, error);
        }
        gpuFailure = { tried: `${label} (${choice.reason})`, message, ...(detail === undefined ? {} : { detail }) };
      }
    }
    if (!request.source) {
      throw new ExplainedError(`${model.name} runs only on the GPU, and it cannot run here: ${choice.reason}.`);
    }
    const reason = gpuFailure ? 'the GPU model did not load' : choice.reason;
    post({ id, type: 'attempt', attempt: { engine: 'transformers.js', reason, ...(gpuFailure ? { gpuFailure } : {}) } });
    await start(engines.transformers({ kvReuse: request.kvReuse !== false }), request.source, reason, gpuFailure);
  }

  /** Runs a reply or a summary on the loaded model, streaming what it writes. */
  async function generate(id: number, request: ChatRequest | SummarizeRequest | GroupChatRequest, signal: AbortSignal) {
    if (!current) throw new Error('No model is loaded yet.');
    const replyText = textBatches((batch) => post({ id, type: 'token', text: batch }), TEXT_INTERVAL_MS);
    try {
      if (request.type === 'summarize') {
        const { text, folded } = request.group
          ? { text: await summarizeGroup(current.engine, { ...request, group: request.group }, current.info.contextSize, signal), folded: undefined }
          : await summarize(current.engine, request, current.info.contextSize, signal);
        post({ id, type: 'summary', text, folded });
        post({ id, type: 'done', stopReason: signal.aborted ? 'aborted' : 'end' });
        return;
      }
      if (request.type === 'group-chat') {
        const { stopReason, stats } = await groupReply(
          current.engine,
          request,
          current.info.contextSize,
          {
            onDecision: (decision, prompt) => post({ id, type: 'decision', decision, prompt }),
            onPrompt: (prompt) => post({ id, type: 'prompt', prompt }),
            onText: replyText.push,
          },
          signal,
        );
        replyText.flush();
        post({ id, type: 'done', stopReason, stats });
        return;
      }
      const { stopReason, stats } = await reply(
        current.engine,
        request,
        current.info.contextSize,
        {
          onIntent: (classification) => post({ id, type: 'intent', classification }),
          onPrompt: (prompt) => post({ id, type: 'prompt', prompt }),
          onText: replyText.push,
        },
        signal,
      );
      replyText.flush();
      post({ id, type: 'done', stopReason, stats });
    } catch (error) {
      // What was written before the failure is shown, ahead of the error.
      replyText.flush();
      if (!(error instanceof GpuDeviceLostError)) throw error;
      // The engine died with its device; the next load chooses again, knowing this happened.
      gpuLosses++;
      await unloadCurrent();
      post({ id, type: 'error', ...describeError(error), deviceLost: true });
    }
  }

  return function handle(request: Request) {
    if (request.type === 'stop') {
      running.get(request.target)?.abort();
      return;
    }
    const controller = new AbortController();
    running.set(request.id, controller);
    if (request.type === 'load') {
      // A newer load makes the older ones moot: cancel them rather than let them finish first.
      for (const older of loads) older.abort();
      loads.add(controller);
    }
    queue = queue.then(async () => {
      try {
        // Stopped while still waiting in the queue: it ends without running.
        if (controller.signal.aborted) {
          if (request.type !== 'load') post({ id: request.id, type: 'done', stopReason: 'aborted' });
          else throw new LoadCancelledError();
        } else if (request.type === 'load') await load(request, controller.signal);
        else await generate(request.id, request, controller.signal);
      } catch (error) {
        post({ id: request.id, type: 'error', ...describeError(error) });
      } finally {
        running.delete(request.id);
        loads.delete(controller);
      }
    });
  };
}
