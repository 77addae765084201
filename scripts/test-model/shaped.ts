// The phi-2-shaped models: phi-2's architecture with seeded int8 weights, in the default hosted
// model's layout (Optimum's merged decoder, weights in an external-data file), written to disk
// tensor by tensor so that no weight is held twice, or for longer than it takes to write it.

import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel, type Graph, type Tensor } from './onnx.js';
import { buildPhiGraph } from './phi-graph.js';
import { quantizedParameters, seededVector } from './quantized.js';
import { MODEL_MAX_LENGTH, tokenizerFiles, trainVocabulary, type Vocabulary } from './tokenizer.js';
import { ropeTables, tokenBias, type PhiConfig } from './weights.js';

export const SHAPES = ['phi-2', 'phi-2-small', 'phi-2-tiny'] as const;
export type Shape = (typeof SHAPES)[number];

/**
 * microsoft/phi-2's config.json; the small shape keeps its width with 2 layers, for quick timing
 * runs; the tiny one keeps only its file layout (merged decoder, int8 weights in an `.onnx_data`
 * file) at the tiny model's width, for the end-to-end tests of that layout.
 */
export function shapeConfig(shape: Shape): PhiConfig {
  if (shape === 'phi-2-tiny') {
    return {
      vocabSize: 1024,
      hiddenSize: 64,
      intermediateSize: 256,
      numLayers: 2,
      numHeads: 4,
      headDim: 16,
      partialRotaryFactor: 0.5,
      rotaryDim: 8,
      ropeTheta: 10000,
      layerNormEps: 1e-5,
      maxPositions: 2048,
    };
  }
  return {
    vocabSize: 51200,
    hiddenSize: 2560,
    intermediateSize: 10240,
    numLayers: shape === 'phi-2' ? 32 : 2,
    numHeads: 32,
    headDim: 80,
    partialRotaryFactor: 0.4,
    rotaryDim: 32,
    ropeTheta: 10000,
    layerNormEps: 1e-5,
    maxPositions: 2048,
  };
}

/** The default hosted model's file names (BricksDisplay/phi-2-q4, dtype q8, merged decoder). */
export const ONNX_FILE = 'onnx/decoder_model_merged_quantized.onnx';
export const DATA_FILE = `${ONNX_FILE}_data`;
const DATA_LOCATION = DATA_FILE.slice('onnx/'.length);

/** onnx's own threshold (`convert_model_to_external_data`): smaller tensors stay in the graph file. */
const EXTERNAL_THRESHOLD = 1024;

export interface ShapedModelSummary {
  config: PhiConfig;
  /** Numbers stored in all initializers: the weights, plus a few scales and the rotary tables. */
  values: number;
  onnxBytes: number;
  dataBytes: number;
  /** What was encoded; its weights are only references into the data file by now. */
  graph: Graph;
}

/**
 * Writes the model folder. `config` is phi-2's or, for tests, any smaller one: the tokenizer is the
 * tiny model's (phi-2's own cannot be generated), its ids a prefix of the model's vocabulary;
 * the ids past it get a logit bias that keeps them from ever being sampled.
 */
export function writeShapedModel(dir: string, config: PhiConfig, seed: number): ShapedModelSummary {
  const vocab = trainVocabulary();
  if (vocab.tokens.length > config.vocabSize) throw new Error(`The tokenizer has ${vocab.tokens.length} tokens, more than the model's ${config.vocabSize}.`);
  const lmBias = paddedTokenBias(vocab, config.vocabSize);

  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const fd = openSync(join(dir, DATA_FILE), 'w');
  let offset = 0;
  let values = 0;
  const sink = (tensor: Tensor): Tensor => {
    if (!('raw' in tensor)) return tensor;
    values += tensor.dims.reduce((a, b) => a * b, 1);
    if (tensor.raw.length < EXTERNAL_THRESHOLD) return tensor;
    writeSync(fd, tensor.raw);
    const external = { location: DATA_LOCATION, offset, length: tensor.raw.length };
    offset += tensor.raw.length;
    return { name: tensor.name, dataType: tensor.dataType, dims: tensor.dims, external };
  };
  let onnx: Uint8Array;
  let graph: Graph;
  try {
    const params = quantizedParameters({ seed, lmBias, vector: (name, length) => seededVector(seed, name, length) });
    graph = buildPhiGraph(config, params, ropeTables(config), { merged: true, sink, name: 'main_graph' });
    onnx = encodeModel({ irVersion: 9, opsetVersion: 17, producerName: 'phi-chat scripts/test-model', producerVersion: '1', graph });
  } finally {
    closeSync(fd);
  }
  writeFileSync(join(dir, ONNX_FILE), onnx);

  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  writeFileSync(join(dir, 'config.json'), json(hfConfig(config, vocab.eosId)));
  writeFileSync(join(dir, 'generation_config.json'), json({ bos_token_id: vocab.eosId, eos_token_id: vocab.eosId, max_length: MODEL_MAX_LENGTH, transformers_version: '4.37.0' }));
  const { tokenizer, tokenizerConfig } = tokenizerFiles(vocab);
  writeFileSync(join(dir, 'tokenizer.json'), json(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), json(tokenizerConfig));
  return { config, values, onnxBytes: onnx.length, dataBytes: offset, graph };
}

/** The tiny model's logit offsets, and ids past its tokenizer's made practically unreachable. */
export function paddedTokenBias(vocab: Vocabulary, vocabSize: number): Float32Array {
  const bias = new Float32Array(vocabSize).fill(-20);
  bias.set(tokenBias(vocab));
  return bias;
}

/** phi-2's config.json, with the generated tokenizer's end-of-text id. */
function hfConfig(c: PhiConfig, eosId: number) {
  return {
    architectures: ['PhiForCausalLM'],
    model_type: 'phi',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numHeads,
    partial_rotary_factor: c.partialRotaryFactor,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    layer_norm_eps: c.layerNormEps,
    max_position_embeddings: c.maxPositions,
    hidden_act: 'gelu_new',
    qk_layernorm: false,
    initializer_range: 0.02,
    resid_pdrop: 0.1,
    embd_pdrop: 0,
    attention_dropout: 0,
    bos_token_id: eosId,
    eos_token_id: eosId,
    tie_word_embeddings: false,
    use_cache: true,
    torch_dtype: 'float16',
    transformers_version: '4.37.0',
  };
}
