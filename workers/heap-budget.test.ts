import { describe, expect, it } from 'vitest';
import { heapContextLimit, kvBytesPerToken } from './heap-budget';

// phi-2's config.json (the values that matter here) and its q8 export's size: graph + .onnx_data.
const PHI_2 = { model_type: 'phi', num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32, hidden_size: 2560, max_position_embeddings: 2048 };
const PHI_2_Q8_BYTES = 538_808 + 2_783_080_448;

describe('the context that fits in the WebAssembly heap', () => {
  it("counts phi-2's fp32 keys and values: 640 KiB a token", () => {
    expect(kvBytesPerToken(PHI_2)).toBe(2 * 32 * 2560 * 4);
  });

  it('counts grouped-query attention by its key-value heads, and GPT-2-style names', () => {
    // Qwen2.5-0.5B: 24 layers, 14 heads of 64, 2 key-value heads.
    expect(kvBytesPerToken({ num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, hidden_size: 896 })).toBe(2 * 24 * 2 * 64 * 4);
    expect(kvBytesPerToken({ n_layer: 2, n_head: 2, n_embd: 64 })).toBe(2 * 2 * 64 * 4);
    expect(kvBytesPerToken({ hidden_size: 64 })).toBeNull();
  });

  it('leaves phi-2 at q8 about 700 tokens, under the 800 that failed in Chromium', () => {
    const limit = heapContextLimit(PHI_2_Q8_BYTES, kvBytesPerToken(PHI_2)!)!;
    expect(limit).toBe(704);
    expect(limit % 64).toBe(0);
  });

  it('does not hold back a small model, and says when nothing fits', () => {
    expect(heapContextLimit(400e6, kvBytesPerToken({ num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, hidden_size: 896 })!)).toBeGreaterThan(32_768);
    expect(heapContextLimit(3.9e9, kvBytesPerToken(PHI_2)!)).toBeNull();
  });
});
