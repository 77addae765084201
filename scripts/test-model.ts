// Writes a randomly initialised phi-architecture model that transformers.js loads like
// microsoft/phi-2, so the app and its e2e tests run without real weights. The default is a tiny
// one (what CI uses); `--shape` writes phi-2's real architecture, int8-quantized like the default
// hosted export, for measuring memory and speed at full size.
//
// `--chat` writes the tiny model as an instruct model would come: a ChatML chat template, its
// markers as special tokens, `<|im_end|>` as end of turn.
//
// Usage: npx tsx scripts/test-model.ts [--chat | --shape phi-2|phi-2-small] [dir]
//   default dir: e2e/.model/phi-tiny, e2e/.model/chat-tiny, or e2e/.model/<shape>

import { parseArgs } from 'node:util';
import { buildTestModel, DEFAULT_SEED, writeTestModel } from './test-model/build.js';
import { SHAPES, shapeConfig, writeShapedModel, type Shape } from './test-model/shaped.js';
import { parameterCount } from './test-model/weights.js';

const { values, positionals } = parseArgs({ options: { shape: { type: 'string' }, chat: { type: 'boolean' } }, allowPositionals: true });
const shape = values.shape;
const chat = values.chat ?? false;

if (chat && shape !== undefined) {
  console.error('--chat writes the tiny model only; it does not combine with --shape.');
  process.exit(2);
}
if (shape === undefined) {
  const dir = positionals[0] ?? (chat ? 'e2e/.model/chat-tiny' : 'e2e/.model/phi-tiny');
  const model = buildTestModel(DEFAULT_SEED, { chat });
  await writeTestModel(dir, model);
  let bytes = 0;
  for (const file of model.files.values()) bytes += file.length;
  console.log(
    `test model written to ${dir}: vocab ${model.config.vocabSize}, ${parameterCount(model.weights)} parameters, ${bytes} bytes`,
  );
} else {
  if (!SHAPES.includes(shape as Shape)) {
    console.error(`Unknown shape "${shape}": choose one of ${SHAPES.join(', ')}.`);
    process.exit(2);
  }
  const dir = positionals[0] ?? `e2e/.model/${shape}`;
  const started = performance.now();
  const summary = writeShapedModel(dir, shapeConfig(shape as Shape), DEFAULT_SEED);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${shape} model written to ${dir} in ${seconds} s: ${summary.config.numLayers} layers, ${summary.values} values, ` +
      `${summary.onnxBytes} bytes of graph + ${summary.dataBytes} bytes of external data`,
  );
}
