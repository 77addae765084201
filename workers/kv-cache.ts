import { Tensor } from '@huggingface/transformers';

/** The model's `past_key_values.*` tensors, `[batch, heads, tokens, head size]` each. */
export type PastKeyValues = Record<string, Tensor>;

/**
 * A KV cache kept between requests, keyed by exactly the token ids it holds: a prompt can reuse it
 * only as far as its own ids agree, so text that changed anywhere (an edit, a regenerated reply,
 * another conversation, a new summary) is recomputed from the first token that differs.
 */
export interface KvCache {
  ids: number[];
  past: PastKeyValues;
}

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Frees what onnxruntime holds for these tensors. */
export function disposePast(past: PastKeyValues | undefined): void {
  for (const tensor of Object.values(past ?? {})) tensor.dispose();
}

/** The first `length` positions of every tensor, as new tensors; the caller disposes the old ones. */
export function cropPast(past: PastKeyValues, length: number): PastKeyValues {
  return Object.fromEntries(
    Object.entries(past).map(([name, tensor]) => {
      const [batch, heads, tokens, size] = tensor.dims as [number, number, number, number];
      const data = tensor.data as Float32Array;
      const cropped = new (data.constructor as Float32ArrayConstructor)(batch * heads * length * size);
      for (let row = 0; row < batch * heads; row++) {
        cropped.set(data.subarray(row * tokens * size, (row * tokens + length) * size), row * length * size);
      }
      return [name, new Tensor(tensor.type, cropped, [batch, heads, length, size])];
    }),
  );
}

/** A forward pass's `present.*` outputs, renamed to the `past_key_values.*` inputs of the next pass. */
export function pastFrom(outputs: Record<string, Tensor>): PastKeyValues {
  return Object.fromEntries(
    Object.entries(outputs)
      .filter(([name]) => name.startsWith('present'))
      .map(([name, tensor]) => [name.replace('present', 'past_key_values'), tensor]),
  );
}
