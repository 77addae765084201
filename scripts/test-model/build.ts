// Assembles the whole transformers.js model folder in memory, so the CLI writes
// it and the tests can check the ONNX file against the very same weights.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodeModel } from './onnx.js';
import { buildPhiGraph, floatParameters } from './phi-graph.js';
import { MODEL_MAX_LENGTH, tokenizerFiles, trainVocabulary, type Vocabulary } from './tokenizer.js';
import { generateWeights, phiConfig, ropeTables, tokenBias, type PhiConfig, type PhiWeights, type RopeTables } from './weights.js';

export const DEFAULT_SEED = 20240229;

export interface TestModel {
  config: PhiConfig;
  vocab: Vocabulary;
  weights: PhiWeights;
  rope: RopeTables;
  /** Relative path -> file contents. */
  files: Map<string, Uint8Array>;
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** `chat`: the variant with a ChatML chat template and its special tokens (e2e/.model/chat-tiny). */
export function buildTestModel(seed = DEFAULT_SEED, { chat = false }: { chat?: boolean } = {}): TestModel {
  const vocab = trainVocabulary({ chat });
  // A chat model ends its turn at `<|im_end|>`, and at end-of-text as well.
  const eos = vocab.chat ? [vocab.chat.imEndId, vocab.eosId] : vocab.eosId;
  const config = phiConfig(vocab.tokens.length);
  const weights = generateWeights(config, tokenBias(vocab), seed);
  const rope = ropeTables(config);

  const onnx = encodeModel({
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'phi-chat scripts/test-model',
    producerVersion: '1',
    graph: buildPhiGraph(config, floatParameters(weights), rope),
  });

  const hfConfig = {
    architectures: ['PhiForCausalLM'],
    model_type: 'phi',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numHeads,
    partial_rotary_factor: config.partialRotaryFactor,
    rope_theta: config.ropeTheta,
    rope_scaling: null,
    layer_norm_eps: config.layerNormEps,
    max_position_embeddings: config.maxPositions,
    hidden_act: 'gelu_new',
    qk_layernorm: false,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attention_dropout: 0,
    bos_token_id: vocab.eosId,
    eos_token_id: vocab.chat?.imEndId ?? vocab.eosId,
    tie_word_embeddings: false,
    use_cache: true,
    torch_dtype: 'float32',
    transformers_version: '4.37.0',
    // Only onnx/model.onnx exists; without this a caller that names no dtype
    // would get the backend default (q8 on wasm) and a missing-file error.
    'transformers.js_config': { dtype: 'fp32' },
  };
  const generationConfig = {
    bos_token_id: vocab.eosId,
    eos_token_id: eos,
    max_length: MODEL_MAX_LENGTH,
    transformers_version: '4.37.0',
  };
  const { tokenizer, tokenizerConfig } = tokenizerFiles(vocab);

  const files = new Map<string, Uint8Array>([
    ['config.json', json(hfConfig)],
    ['generation_config.json', json(generationConfig)],
    ['tokenizer.json', json(tokenizer)],
    ['tokenizer_config.json', json(tokenizerConfig)],
    ['onnx/model.onnx', onnx],
  ]);
  return { config, vocab, weights, rope, files };
}

export async function writeTestModel(dir: string, model: TestModel): Promise<void> {
  for (const [path, bytes] of model.files) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }
}
