/**
 * One reply on a bare engine: the app's own engine and chat logic with nothing around them (no
 * handler, no protocol, no UI). The bare worker runs it on onnxruntime-web, `npm run bench` on
 * onnxruntime-node, so both baselines are measured the same way.
 */
import { PreTrainedModel } from '@huggingface/transformers';
import { classifyMessage } from '../../../workers/chat';
import { StopSequenceFilter } from '../../../workers/stop-sequences';
import type { TransformersEngine } from '../../../workers/transformers-engine';
import type { BareResult, BareRun } from './protocol';

// Counts the model's forward passes: how many the classifier costs is one of the figures.
let forwardPasses = 0;
const forward = PreTrainedModel.prototype.forward;
PreTrainedModel.prototype.forward = function (this: PreTrainedModel, ...args: Parameters<typeof forward>) {
  forwardPasses++;
  return forward.apply(this, args);
};

export async function measureReply(engine: TransformersEngine, request: BareRun, contextSize: number): Promise<BareResult> {
  let classifyMs: number | undefined;
  let classifyForwardPasses: number | undefined;
  if (request.classify !== undefined) {
    forwardPasses = 0;
    const start = performance.now();
    await classifyMessage(engine, request.classify, undefined, request.bot, contextSize);
    classifyMs = performance.now() - start;
    classifyForwardPasses = forwardPasses;
  }
  // The app's stop rule, so the bare engine writes the same tokens the app shows.
  const filter = new StopSequenceFilter([request.bot]);
  let text = '';
  let firstText = 0;
  let lastText = 0;
  const emit = (visible: string) => {
    if (!visible) return;
    lastText = performance.now();
    if (!firstText) firstText = lastText;
    text += visible;
  };
  const start = performance.now();
  await engine.generate(
    request.prompt,
    request.params,
    (piece) => {
      const { text: visible, stopped } = filter.push(piece);
      emit(visible);
      return !stopped;
    },
    new AbortController().signal,
  );
  emit(filter.flush());
  return {
    classifyMs,
    classifyForwardPasses,
    firstTextMs: firstText ? firstText - start : 0,
    streamMs: firstText ? lastText - firstText : 0,
    firstTextAt: performance.timeOrigin + firstText,
    lastTextAt: performance.timeOrigin + lastText,
    replyTokens: text ? engine.countTokens(text) : 0,
    text,
  };
}
