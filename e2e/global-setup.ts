import { cpSync, existsSync, rmSync, truncateSync, writeFileSync } from 'node:fs';

/** Broken copies of the generated model, for the bad-input tests. */
export default function globalSetup() {
  const tiny = 'e2e/.model/phi-tiny';
  if (!existsSync(`${tiny}/onnx/model.onnx`)) throw new Error('Run `npm run test-model` first: the generated model is missing.');
  for (const name of ['broken-onnx', 'broken-config']) {
    rmSync(`e2e/.model/${name}`, { recursive: true, force: true });
    cpSync(tiny, `e2e/.model/${name}`, { recursive: true });
  }
  truncateSync('e2e/.model/broken-onnx/onnx/model.onnx', 5000);
  writeFileSync('e2e/.model/broken-config/config.json', '{"model_type": "phi", "hidden_size": ');
}
