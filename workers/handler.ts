import { reply } from './chat';
import { DEFAULT_GENERATION, type Engine } from './engine';
import { describeError } from './errors';
import type { EngineInfo, ModelSource, Request, Response } from './protocol';

/**
 * The worker's side of the protocol. Requests run one at a time in arrival order (one model, one
 * forward pass at a time), except `stop`, which acts at once. Every load and chat request gets
 * exactly one final `done`/`loaded` or `error`.
 */
export function createHandler(createEngine: () => Engine, post: (response: Response) => void) {
  let engine: Engine | null = null;
  let info: EngineInfo | null = null;
  let loadedSource: string | null = null;
  let queue: Promise<void> = Promise.resolve();
  const running = new Map<number, AbortController>();

  async function load(id: number, source: ModelSource) {
    const key = JSON.stringify(source);
    if (engine && info && loadedSource === key) {
      post({ id, type: 'loaded', info });
      return;
    }
    // Never keep two models in memory: free the old one before fetching the new one.
    await engine?.unload();
    engine = null;
    info = null;
    loadedSource = null;
    const next = createEngine();
    info = await next.load(source, (files) => post({ id, type: 'progress', files }));
    engine = next;
    loadedSource = key;
    post({ id, type: 'loaded', info });
  }

  async function chat(id: number, request: Extract<Request, { type: 'chat' }>, signal: AbortSignal) {
    if (!engine || !info) throw new Error('No model is loaded yet.');
    const stopReason = await reply(
        engine,
        { history: request.history, message: request.message, contextSize: info.contextSize, params: DEFAULT_GENERATION },
        {
          onIntent: (classification) => post({ id, type: 'intent', classification }),
        onPrompt: (prompt) => post({ id, type: 'prompt', prompt }),
          onText: (text) => post({ id, type: 'token', text }),
        },
        signal,
      );
    post({ id, type: 'done', stopReason });
  }

  return function handle(request: Request) {
    if (request.type === 'stop') {
      running.get(request.target)?.abort();
      return;
    }
    const controller = new AbortController();
    running.set(request.id, controller);
    queue = queue.then(async () => {
      // Stopped while still waiting in the queue: it ends without running.
      if (controller.signal.aborted) {
        post(request.type === 'chat' ? { id: request.id, type: 'done', stopReason: 'aborted' } : { id: request.id, type: 'error', message: 'Cancelled.' });
        return;
      }
      try {
        if (request.type === 'load') await load(request.id, request.source);
        else await chat(request.id, request, controller.signal);
      } catch (error) {
        post({ id: request.id, type: 'error', ...describeError(error) });
      } finally {
        running.delete(request.id);
      }
    });
  };
}
