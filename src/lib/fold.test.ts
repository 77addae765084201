// @vitest-environment happy-dom
// How ChatState folds old turns into the summary: step by step, saving each, interruptible.
// fake-indexeddb stands in for IndexedDB in Node; the e2e tests run the real one in Chromium.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { FOLD_STEP_TURNS, type EngineInfo, type Request, type Response, type SummarizeRequest } from '../../workers/protocol';
import { ChatState } from './chat.svelte';
import { HOSTED_GPU_SOURCE } from './engine-settings';
import { customSource } from './model-source';

const WASM_INFO: EngineInfo = { engine: 'transformers.js', device: 'wasm', model: 'm', dtype: 'fp32', threads: 1, contextSize: 2048 };
const CLASSIFICATION = { probabilities: { support: 0.1, sales: 0.8, joke: 0.1 }, route: 'sales' } as const;
type Body<R> = R extends unknown ? Omit<R, 'id'> : never;

/** Replies from this many turns of conversation on ask to fold all but the last two turns of their history. */
const FULL = 20;

/** A stand-in for the inference worker that answers chats at once and summaries when told to. */
class FoldingWorker {
  readonly requests: Request[] = [];
  /** Summaries waiting for `finishSummary`, when `holdSummaries` is set. */
  readonly held: SummarizeRequest[] = [];
  holdSummaries = false;
  /** A stop finds the held summary already written: it ends as it would have, not aborted. */
  finishOnStop = false;
  private listener: ((event: MessageEvent<Response>) => void) | null = null;

  postMessage(request: Request) {
    this.requests.push(request);
    if (request.type === 'load') this.send(request.id, [{ type: 'loaded', info: WASM_INFO, reason: 'r' }]);
    if (request.type === 'chat') {
      const n = request.history.length;
      const summarized = Number(request.summary?.match(/message (\d+)$/)?.[1] ?? -1) + 1;
      const prompt = { text: 'p', tokens: 10, turnsUsed: n, foldTurns: summarized + n >= FULL ? n - 2 : 0 };
      this.send(request.id, [{ type: 'intent', classification: CLASSIFICATION }, { type: 'prompt', prompt }, { type: 'token', text: `reply ${n}` }, { type: 'done', stopReason: 'end' }]);
    }
    if (request.type === 'summarize') {
      if (this.holdSummaries) this.held.push(request);
      else this.finish(request);
    }
    if (request.type === 'stop') {
      const held = this.held.findIndex((r) => r.id === request.target);
      if (held >= 0 && this.finishOnStop) this.finish(this.held[held]!);
      else if (held >= 0) this.send(request.target, [{ type: 'done', stopReason: 'aborted' }]);
      if (held >= 0) this.held.splice(held, 1);
    }
  }

  finish(request: SummarizeRequest) {
    this.send(request.id, [{ type: 'summary', text: `summary up to ${request.turns.at(-1)!.user}`, folded: request.turns.length }, { type: 'done', stopReason: 'end' }]);
  }

  private send(id: number, responses: Body<Response>[]) {
    for (const response of responses) setTimeout(() => this.listener?.({ data: { ...response, id } } as MessageEvent<Response>));
  }

  addEventListener(type: string, listener: (event: MessageEvent<Response>) => void) {
    if (type === 'message') this.listener = listener;
  }

  terminate() {}
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
async function until(condition: () => boolean) {
  for (let i = 0; i < 400 && !condition(); i++) await tick();
  expect(condition()).toBe(true);
}

async function chatWithTurns(worker: FoldingWorker, turns: number) {
  const chat = new ChatState({ kind: 'custom', source: customSource('http://localhost/m/') }, () => worker as unknown as Worker, HOSTED_GPU_SOURCE, 'wasm');
  for (let k = 0; k < turns; k++) {
    await chat.send(`message ${k}`);
    await until(() => !chat.busy);
  }
  return chat;
}

/** A conversation whose last reply started a fold, with its first step saved and its second held in flight. */
async function foldInSecondStep() {
  const worker = new FoldingWorker();
  const chat = await chatWithTurns(worker, FULL);
  worker.holdSummaries = true;
  await chat.send(`message ${FULL}`);
  await until(() => worker.held.length === 1);
  worker.finish(worker.held.shift()!);
  await until(() => worker.held.length === 1);
  return { worker, chat };
}

const summaries = (worker: FoldingWorker) => worker.requests.filter((r): r is SummarizeRequest => r.type === 'summarize');

describe('folding old turns into the summary', () => {
  it('goes a bounded step at a time, saving the summary and the memory marker after each', async () => {
    const worker = new FoldingWorker();
    const chat = await chatWithTurns(worker, FULL + 1);
    // The last reply's prompt marked its oldest FULL - 2 turns for folding.
    await until(() => chat.library.current?.memoryStart === chat.messages[2 * (FULL - 2)]!.id);
    const steps = summaries(worker);
    expect(steps.map((s) => s.turns.length)).toEqual([FOLD_STEP_TURNS, FOLD_STEP_TURNS, FULL - 2 - 2 * FOLD_STEP_TURNS]);
    // Each step starts where the last one ended, from the summary it saved.
    expect(steps.map((s) => s.turns[0]!.user)).toEqual(['message 0', `message ${FOLD_STEP_TURNS}`, `message ${2 * FOLD_STEP_TURNS}`]);
    expect(steps.map((s) => s.summary)).toEqual([undefined, `summary up to message ${FOLD_STEP_TURNS - 1}`, `summary up to message ${2 * FOLD_STEP_TURNS - 1}`]);
    expect(chat.library.current?.summary).toBe(`summary up to message ${FULL - 3}`);
    // The next message reads the history from the marker on, with the summary.
    await chat.send('and now?');
    await until(() => !chat.busy);
    expect(worker.requests.filter((r) => r.type === 'chat').at(-1)).toMatchObject({ summary: `summary up to message ${FULL - 3}`, history: [{ user: `message ${FULL - 2}` }, { user: `message ${FULL - 1}` }, { user: `message ${FULL}` }] });
  });

  it('is interrupted by a new message, keeps the steps already saved, and goes on from there after the reply', async () => {
    const { worker, chat } = await foldInSecondStep();
    const firstStepEnd = chat.messages[2 * FOLD_STEP_TURNS]!.id;
    await until(() => chat.library.current?.memoryStart === firstStepEnd);

    // A new message stops the step in flight.
    const inFlight = worker.held[0]!.id;
    await chat.send('an urgent question');
    await until(() => !chat.busy);
    expect(worker.requests).toContainEqual(expect.objectContaining({ type: 'stop', target: inFlight }));
    expect(chat.library.current?.memoryStart).toBe(firstStepEnd);
    expect(chat.library.current?.summary).toBe(`summary up to message ${FOLD_STEP_TURNS - 1}`);
    // After that reply the fold resumes from the saved step, not from the first turn.
    await until(() => worker.held.length === 1);
    expect(worker.held[0]).toMatchObject({ summary: `summary up to message ${FOLD_STEP_TURNS - 1}`, turns: expect.arrayContaining([{ user: `message ${FOLD_STEP_TURNS}`, assistant: expect.any(String) }]) });
    expect(worker.held[0]!.turns[0]!.user).toBe(`message ${FOLD_STEP_TURNS}`);
  });

  it('goes on after the reply when the step in flight was saved after the message was sent', async () => {
    const { worker, chat } = await foldInSecondStep();

    // The second step had already ended when the new message's stop reached the worker: it is
    // saved after the reply's history was read, so the reply's fold count includes its turns.
    worker.finishOnStop = true;
    await chat.send('an urgent question');
    await until(() => !chat.busy);
    const secondStepEnd = chat.messages[4 * FOLD_STEP_TURNS]!.id;
    await until(() => chat.library.current?.memoryStart === secondStepEnd);
    // The fold does not stall on the summary it did not expect: it goes on from the saved step.
    await until(() => worker.held.length === 1);
    expect(worker.held[0]).toMatchObject({ summary: `summary up to message ${2 * FOLD_STEP_TURNS - 1}` });
    expect(worker.held[0]!.turns[0]!.user).toBe(`message ${2 * FOLD_STEP_TURNS}`);
  });

  it('asks the worker for full prefills when the page says kv=off', async () => {
    const worker = new FoldingWorker();
    const chat = new ChatState({ kind: 'custom', source: customSource('http://localhost/m/') }, () => worker as unknown as Worker, HOSTED_GPU_SOURCE, 'wasm');
    chat.kvReuse = false;
    await chat.loadModel();
    chat.kvReuse = true;
    await chat.loadModel();
    const loads = worker.requests.filter((r) => r.type === 'load');
    expect(loads[0]).toMatchObject({ kvReuse: false });
    expect(loads[1]).not.toHaveProperty('kvReuse');
  });
});
