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

/** Turns an exception into one sentence a user can act on, keeping the technical text as detail. */
export function describeError(error: unknown): { message: string; detail?: string } {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (error instanceof PromptTooLongError) return { message: error.message };
  if (error instanceof ModelFileError) return { message: describeFileFailure(error), detail };
  const text = error instanceof Error ? error.message : String(error);
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
