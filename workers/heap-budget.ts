/**
 * How much of a conversation a model can read on the CPU. onnxruntime-web runs in 32-bit
 * WebAssembly: one heap of at most 4 GiB holds the weights, and, during each forward pass, the KV
 * cache twice (the past keys and values as input, the present ones as output; between passes the
 * cache lives in JS, outside the heap) and the pass's activations. phi-2 at q8 leaves room for only
 * a few hundred tokens: measured in Chromium, a prompt of about 800 tokens failed with
 * `std::bad_alloc` (README, "phi-2 at its real size"). So the engine reports a context no longer
 * than fits, and prompts are fitted to it like to any context window.
 */

/** wasm32's largest memory: 65,536 pages of 64 KiB. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;
/**
 * What a pass needs besides the weights and the cache: onnxruntime's own allocations, a prefill
 * chunk's activations (`PREFILL_CHUNK` tokens: for phi-2 about 150 MB, most of it the logits of
 * every position, which its export cannot leave out) and room for the heap's fragmentation.
 */
export const HEAP_RESERVE_BYTES = 512 * 1024 ** 2;
/** A prompt runs through the model this many tokens per pass at most, so its activations stay bounded. */
export const PREFILL_CHUNK = 256;
/** The context is rounded down to a multiple of this. */
const ROUND_TO = 64;

/** Bytes of fp32 keys and values one token adds to the KV cache, from the model's config; null when the config does not say. */
export function kvBytesPerToken(config: Record<string, unknown>): number | null {
  const n = (...keys: string[]) => keys.map((key) => config[key]).find((value): value is number => typeof value === 'number' && value > 0);
  const layers = n('num_hidden_layers', 'n_layer');
  const heads = n('num_attention_heads', 'n_head');
  const hidden = n('hidden_size', 'n_embd');
  if (!layers || !heads || !hidden) return null;
  const kvHeads = n('num_key_value_heads') ?? heads;
  const headDim = n('head_dim') ?? hidden / heads;
  return 2 * layers * kvHeads * headDim * 4;
}

/** The most tokens a model with `weightBytes` of weights can hold in the heap, or null when nothing fits. */
export function heapContextLimit(weightBytes: number, kvBytes: number): number | null {
  const room = WASM_HEAP_BYTES - weightBytes - HEAP_RESERVE_BYTES;
  const tokens = Math.floor(room / (2 * kvBytes) / ROUND_TO) * ROUND_TO;
  return tokens >= ROUND_TO ? tokens : null;
}
