/**
 * `npm run eval`: runs labelled examples through the app's own decision code (the same prompts and
 * the same scoring as the worker) on a model, in Node, and prints accuracy, per-class precision and
 * recall, the confusion matrix and the examples it got wrong.
 *
 *   npm run eval -- --task intent|group [--model <folder URL or path>] [--dtype q8] [--file <onnx base name>] [--external-data] [--json]
 *                   [--compare-labels]   (group: also score every candidate label pair)
 *
 * Without --model it runs on the generated test model (e2e/.model/phi-tiny, written if missing),
 * where the numbers mean nothing but every step runs.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { classifyMessage } from '../workers/chat';
import { defaultChatSettings } from '../workers/defaults';
import { decideGroupTurn } from '../workers/group-chat';
import { CONFIDENCE_THRESHOLD } from '../workers/labels';
import { GROUP_LABEL_CANDIDATES, GROUP_LABELS, type GroupLabels } from '../workers/group';
import { INTENTS, type Dtype, type GroupLine, type Intent } from '../workers/protocol';
import { TransformersEngine } from '../workers/transformers-engine';
import { computeMetrics, formatMetrics, type Metrics, type Outcome } from './eval/metrics';
import { buildTestModel, writeTestModel } from './test-model/build';

const { values: args } = parseArgs({
  options: {
    task: { type: 'string', default: 'intent' },
    model: { type: 'string' },
    dtype: { type: 'string' },
    file: { type: 'string', default: 'model' },
    'external-data': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'compare-labels': { type: 'boolean', default: false },
  },
});
if (args.task !== 'intent' && args.task !== 'group') throw new Error(`--task must be intent or group, not "${args.task}"`);
const log = (text: string) => !args.json && console.log(text);

const TINY_MODEL = 'e2e/.model/phi-tiny';

/** A folder on disk is served over HTTP for the engine, which loads model folders by URL as in the browser. */
async function modelUrl(model: string | undefined): Promise<{ url: string; close: () => void }> {
  if (model && /^https?:\/\//.test(model)) return { url: model.endsWith('/') ? model : `${model}/`, close: () => {} };
  const folder = resolve(model ?? TINY_MODEL);
  if (!model && !existsSync(join(folder, 'config.json'))) await writeTestModel(folder, buildTestModel());
  if (!(await stat(folder).catch(() => null))?.isDirectory()) throw new Error(`--model ${model}: no such folder`);
  const server = createServer(async (request, response) => {
    const path = normalize(join(folder, decodeURIComponent(new URL(request.url!, 'http://x').pathname).replace(/^\/model\//, '')));
    try {
      const body = await readFile(path);
      response.writeHead(200, { 'Content-Length': body.length, 'Content-Type': extname(path) === '.json' ? 'application/json' : 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  }).listen(0, '127.0.0.1');
  await new Promise((done) => server.once('listening', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/model/`, close: () => server.close() };
}

interface IntentExample {
  text: string;
  label: Intent;
  kind: string;
  previous?: { user: string; assistant: string };
}
interface GroupConversation {
  id: string;
  kind: string;
  participants: string[];
  lines: (GroupLine & { expect?: 'speak' | 'silent' })[];
}

const settings = defaultChatSettings();
const bot = settings.persona.name;
const { url, close } = await modelUrl(args.model);
const engine = new TransformersEngine({ device: 'cpu' });
const started = performance.now();
const info = await engine.load({ id: url, dtype: (args.dtype ?? (args.model ? 'q8' : 'fp32')) as Dtype, file: args.file!, externalData: args['external-data']! }, () => {});
log(`model ${args.model ?? TINY_MODEL} (${info.engine === 'transformers.js' ? info.dtype : ''}), context ${info.contextSize} tokens, loaded in ${Math.round(performance.now() - started)} ms`);

const report: Record<string, unknown> = { task: args.task, model: args.model ?? TINY_MODEL };
const summarize = <L extends string>(m: Metrics<L>) => ({ ...m, wrong: m.wrong.map(({ expected, predicted, text, detail }) => ({ expected, predicted, text, detail })) });

if (args.task === 'intent') {
  const { examples } = JSON.parse(await readFile('eval/intent.json', 'utf8')) as { examples: IntentExample[] };
  const outcomes: Outcome<Intent>[] = [];
  const byKind = new Map<string, { right: number; all: number }>();
  let unsure = 0;
  const t0 = performance.now();
  for (const example of examples) {
    // Follow-ups come with their previous turn, as the app gives it with "Include the previous turn" on.
    const { probabilities, route } = await classifyMessage(engine, example.text, example.previous, bot, info.contextSize);
    const predicted = INTENTS.reduce((a, b) => (probabilities[b] > probabilities[a] ? b : a));
    if (route === 'general') unsure++;
    outcomes.push({ expected: example.label, predicted, text: example.text, detail: `${example.kind}, p=${probabilities[predicted].toFixed(2)}` });
    const kind = byKind.get(example.kind) ?? { right: 0, all: 0 };
    kind.all++;
    if (predicted === example.label) kind.right++;
    byKind.set(example.kind, kind);
  }
  const metrics = computeMetrics(INTENTS, outcomes);
  Object.assign(report, { metrics: summarize(metrics), unsure, byKind: Object.fromEntries(byKind), msPerExample: (performance.now() - t0) / examples.length });
  log(formatMetrics('intent', metrics));
  log(`\nby kind: ${[...byKind].map(([k, v]) => `${k} ${v.right}/${v.all}`).join(', ')}`);
  log(`under the ${CONFIDENCE_THRESHOLD * 100} % confidence threshold (replies with the general instructions): ${unsure}/${examples.length}`);
} else {
  const { conversations } = JSON.parse(await readFile('eval/group.json', 'utf8')) as { conversations: GroupConversation[] };
  const points = conversations.flatMap((c) =>
    c.lines.flatMap((line, i) => (line.expect ? [{ conversation: c, history: c.lines.slice(0, i), message: line, expected: line.expect }] : [])),
  );
  const run = async (labels: GroupLabels) => {
    const outcomes: Outcome<'speak' | 'silent'>[] = [];
    for (const point of points) {
      const { decision } = await decideGroupTurn(
        engine,
        { participants: point.conversation.participants, history: point.history, message: point.message, settings, force: false },
        info.contextSize,
        labels,
      );
      outcomes.push({
        expected: point.expected,
        predicted: decision.speak ? 'speak' : 'silent',
        text: `${point.conversation.id}: ${point.message.speaker}: ${point.message.text}`,
        detail: `p(speak)=${decision.probability.toFixed(2)}${decision.addressed === 'no' ? '' : `, addressed: ${decision.addressed}`}`,
      });
    }
    return computeMetrics(['speak', 'silent'] as const, outcomes);
  };
  const t0 = performance.now();
  const metrics = await run(GROUP_LABELS);
  const msPerPoint = (performance.now() - t0) / points.length;
  log(formatMetrics(`group (labels "${GROUP_LABELS.speak.trim()}" / "${GROUP_LABELS.silent.trim()}", ${settings.group.talkativeness})`, metrics));
  // Measure, don't assume: every candidate label pair on the same points.
  const candidates = [];
  for (const labels of args['compare-labels'] ? GROUP_LABEL_CANDIDATES : []) {
    const m = labels === GROUP_LABELS ? metrics : await run(labels);
    candidates.push({ speak: labels.speak, silent: labels.silent, accuracy: m.accuracy, speakRecall: m.perClass.speak.recall, silentRecall: m.perClass.silent.recall });
  }
  if (candidates.length) log('\nlabel pairs (the app uses the first):');
  for (const c of candidates) log(`  "${c.speak.trim()}" / "${c.silent.trim()}": accuracy ${((c.accuracy ?? 0) * 100).toFixed(1)} %, speak recall ${((c.speakRecall ?? 0) * 100).toFixed(1)} %, silent recall ${((c.silentRecall ?? 0) * 100).toFixed(1)} %`);
  Object.assign(report, { metrics: summarize(metrics), candidates, conversations: conversations.length, points: points.length, msPerPoint });
}

if (args.json) console.log(JSON.stringify(report, null, 2));
await engine.unload();
close();
