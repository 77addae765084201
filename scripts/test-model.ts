// Writes a tiny, randomly initialised phi-architecture model that transformers.js
// loads like microsoft/phi-2, so the app and its e2e tests run without real weights.
//
// Usage: npx tsx scripts/test-model.ts [dir]   (default: e2e/.model/phi-tiny)

import { buildTestModel, writeTestModel } from './test-model/build.js';
import { parameterCount } from './test-model/weights.js';

const dir = process.argv[2] ?? 'e2e/.model/phi-tiny';
const model = buildTestModel();
await writeTestModel(dir, model);

let bytes = 0;
for (const file of model.files.values()) bytes += file.length;
console.log(
  `test model written to ${dir}: vocab ${model.config.vocabSize}, ${parameterCount(model.weights)} parameters, ${bytes} bytes`,
);
