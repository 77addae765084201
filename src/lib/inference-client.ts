import type { Request, Response } from '../../workers/protocol';

type Body<R> = R extends unknown ? Omit<R, 'id'> : never;
export type RequestBody = Body<Exclude<Request, { type: 'stop' }>>;

/** Ends a request: the worker's own `done`/`loaded`/`error`, or an `error` when the worker died. */
const isFinal = (r: Response) => r.type === 'done' || r.type === 'loaded' || r.type === 'error';

export const WORKER_CRASHED = 'The model worker crashed. Your conversation is kept; the model reloads with your next message.';

/**
 * The UI's handle on the inference worker. Routes each response to its request by id, and turns a
 * worker crash into an `error` for every open request; the next request starts a fresh worker.
 */
export class InferenceClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly listeners = new Map<number, (response: Response) => void>();

  constructor(
    private readonly spawn: () => Worker,
    private readonly onCrash: () => void,
  ) {}

  /** Sends a request; `onResponse` sees every message for it, the final one last. */
  send(body: RequestBody, onResponse: (response: Response) => void): number {
    const id = this.nextId++;
    this.listeners.set(id, onResponse);
    this.ensureWorker().postMessage({ ...body, id } as Request);
    return id;
  }

  stop(target: number) {
    if (this.listeners.has(target)) this.worker?.postMessage({ id: this.nextId++, type: 'stop', target } satisfies Request);
  }

  /**
   * Ends the worker, so the next request starts a fresh one: after a failed load, whatever it left
   * behind (onnxruntime's state after a file it could not parse, a half-made session) goes with
   * it. Only while no request is open, as those would get no answer.
   */
  restart() {
    if (!this.worker || this.listeners.size > 0) return;
    this.worker.terminate();
    this.worker = null;
  }

  /**
   * Ends the worker now, whatever it is doing (a download, a session being made), and with it
   * everything it held in memory; every open request ends with `message` as its error.
   */
  terminate(message: string) {
    if (!this.worker) return;
    this.endWorker(message);
  }

  private endWorker(message: string, detail?: string) {
    this.worker?.terminate();
    this.worker = null;
    const open = [...this.listeners.entries()];
    this.listeners.clear();
    for (const [id, listener] of open) listener({ id, type: 'error', message, detail });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = this.spawn();
    worker.addEventListener('message', (event: MessageEvent<Response>) => {
      const response = event.data;
      const listener = this.listeners.get(response.id);
      if (!listener) return;
      if (isFinal(response)) this.listeners.delete(response.id);
      listener(response);
    });
    const crash = (event: Event) => {
      event.preventDefault();
      if (this.worker !== worker) return;
      this.endWorker(WORKER_CRASHED, event instanceof ErrorEvent ? event.message : undefined);
      this.onCrash();
    };
    worker.addEventListener('error', crash);
    worker.addEventListener('messageerror', crash);
    this.worker = worker;
    return worker;
  }
}
