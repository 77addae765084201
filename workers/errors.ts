import { PromptTooLongError } from './prompt';

/** A model file that failed to download or parse; `file` is what the user is shown. */
export class ModelFileError extends Error {
  constructor(
    readonly file: string,
    readonly cause: unknown,
  ) {
    super(`${file}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'ModelFileError';
  }
}

/** An error whose message is already the sentence to show; `cause` keeps the technical text. */
export class ExplainedError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'ExplainedError';
  }
}

/** The GPU device went away (driver reset, out of memory): the engine on it cannot go on. */
export class GpuDeviceLostError extends ExplainedError {
  constructor(cause?: unknown) {
    super('The GPU stopped responding (its device was lost).', cause);
    this.name = 'GpuDeviceLostError';
  }
}

/** A newer load request replaced this one before it finished. */
export class LoadCancelledError extends Error {
  constructor() {
    super('Cancelled: another model was asked for.');
    this.name = 'LoadCancelledError';
  }
}

const technicalText = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

/** Turns an exception into one sentence a user can act on, keeping the technical text as detail. */
export function describeError(error: unknown): { message: string; detail?: string } {
  const detail = technicalText(error);
  if (error instanceof PromptTooLongError || error instanceof LoadCancelledError) return { message: error.message };
  if (error instanceof ExplainedError) return { message: error.message, ...(error.cause === undefined ? {} : { detail: technicalText(error.cause) }) };
  if (error instanceof ModelFileError) return { message: describeFileFailure(error), detail };
  const text = error instanceof Error ? error.message : String(error);
  // onnxruntime-web's WebAssembly heap is full: it throws std::bad_alloc from C++.
  if (/bad_alloc/.test(text)) {
    return { message: 'The model ran out of memory on the CPU: WebAssembly gives it at most 4 GB. A shorter message, or a smaller model, fits.', detail };
  }
  if (/memory|allocation|out of bounds/i.test(text)) {
    return { message: 'The device ran out of memory while running the model.', detail };
  }
  return { message: `Something went wrong in the model worker: ${text.split('\n')[0]}`, detail };
}

function describeFileFailure({ file, cause }: ModelFileError): string {
  if (/\((HTTP \d+|network error)\)$/.test(file)) return `Could not download ${file}.`;
  const text = cause instanceof Error ? cause.message : String(cause);
  if (/failed to fetch|networkerror|load failed/i.test(text)) return `Could not download ${file}: the network request failed.`;
  return `${file} is broken or not part of a transformers.js model.`;
}
