import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { DEFAULT_SEED } from '../scripts/test-model/build';
import { shapeConfig, writeShapedModel } from '../scripts/test-model/shaped';
import { EMPTY_WEBLLM_MIRROR, expect, reply, sendMessage, serviceWorkerReady, test, waitForReplyEnd } from './fixtures';

/** The generated model with the default phi-2's layout: a merged decoder whose int8 weights are in an .onnx_data file. */
const EXTERNAL_DATA_MODEL = '/models/phi-2-tiny/';
const DATA_FILE = 'onnx/decoder_model_merged_quantized.onnx_data';
const appLink = `./?webllm=${encodeURIComponent(EMPTY_WEBLLM_MIRROR)}`;

// A fraction of a second; the test server serves whatever is in e2e/.model.
test.beforeAll(() => {
  writeShapedModel(`e2e/.model${EXTERNAL_DATA_MODEL}`, shapeConfig('phi-2-tiny'), DEFAULT_SEED);
});

/** Paths under /models/ that the page, its workers or the service worker asked the network for. */
function recordModelRequests(context: BrowserContext): string[] {
  const paths: string[] = [];
  context.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith('/models/') || pathname.startsWith('/local-models/')) paths.push(pathname);
  });
  return paths;
}

async function openFolder(page: Page, dir: string) {
  await page.getByText('Model source').click();
  await expect(page.getByRole('button', { name: 'Open a model folder…' })).toBeEnabled();
  // Headless Chromium's directory picker is a native dialog; its fallback input takes the folder.
  await page.getByLabel('Model folder').setInputFiles(dir);
}

async function storedModels(page: Page): Promise<string[]> {
  await page.getByRole('button', { name: 'Storage' }).click();
  const panel = page.getByRole('dialog', { name: 'Storage' });
  await expect(panel.getByText(/No models are stored|Stored models/).or(panel.getByRole('list', { name: 'Stored models' }))).toBeVisible();
  const names = await panel.getByRole('listitem').allTextContents();
  await panel.getByRole('button', { name: 'Close' }).click();
  return names;
}

/** A copy of a generated model folder, changed by `edit`, removed after the test. */
function folderCopy(source: string, edit: (dir: string) => void): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'model-folder-')), 'my-model');
  cpSync(source, dir, { recursive: true });
  edit(dir);
  return dir;
}

test('a model folder from disk loads with no request for its files, is stored, and loads again offline after a reload', async ({ page, context }) => {
  const requests = recordModelRequests(context);
  await page.goto(appLink);
  await serviceWorkerReady(page);
  await openFolder(page, 'e2e/.model/phi-tiny');
  await expect(page.getByLabel('Engine')).toContainText('phi-tiny (from disk) fp32 · transformers.js');
  expect(requests, 'nothing of the folder went over the network').toEqual([]);
  expect(await storedModels(page)).toEqual([expect.stringMatching(/^phi-tiny \(from disk\)\s*879\.8 KB\s*Delete$/)]);

  await context.setOffline(true);
  await page.reload();
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('phi-tiny (from disk) fp32');
  await sendMessage(page, 'Do you sell laptops?');
  await waitForReplyEnd(page, 0);
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
  expect(requests).toEqual([]);
});

test('a folder from disk with its weights in an .onnx_data file loads', async ({ page }) => {
  await page.goto(appLink);
  await openFolder(page, 'e2e/.model/phi-2-tiny');
  await expect(page.getByLabel('Engine')).toContainText('phi-2-tiny (from disk) q8 · transformers.js');
});

test('a folder without config.json is refused, naming it, and nothing is stored', async ({ page }) => {
  const dir = folderCopy('e2e/.model/phi-tiny', (d) => rmSync(join(d, 'config.json')));
  await page.goto(appLink);
  await openFolder(page, dir);
  await expect(page.getByRole('alert')).toHaveText('The folder "my-model" has no config.json: it is not a transformers.js model folder.');
  await expect(page.getByRole('button', { name: 'Load model' })).toBeVisible();
  expect(await storedModels(page)).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

test('a folder without its .onnx_data file fails naming the missing weights file, and leaves nothing stored', async ({ page }) => {
  const dir = folderCopy('e2e/.model/phi-2-tiny', (d) => rmSync(join(d, DATA_FILE)));
  await page.goto(appLink);
  await openFolder(page, dir);
  await expect(page.getByRole('alert')).toContainText(
    `Missing weights file ${DATA_FILE}: onnx/decoder_model_merged_quantized.onnx keeps its weights in it, and the folder "my-model" has no such file.`,
  );
  expect(await storedModels(page)).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

test('a ?model= link to a folder with external data loads it without external=1', async ({ page, context }) => {
  const requests = recordModelRequests(context);
  await page.goto(`./?model=${encodeURIComponent(EXTERNAL_DATA_MODEL)}&file=decoder_model_merged&dtype=q8&webllm=${encodeURIComponent(EMPTY_WEBLLM_MIRROR)}`);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('phi-2-tiny q8 · transformers.js');
  expect(requests).toContain(`${EXTERNAL_DATA_MODEL}${DATA_FILE}`);
  await sendMessage(page, 'Do you sell laptops?');
  await waitForReplyEnd(page, 0);
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
});

test('a custom URL finds its own weights: no dtype to guess', async ({ page }) => {
  await page.goto(appLink);
  await page.getByText('Model source').click();
  await page.getByRole('textbox', { name: 'Model URL' }).fill(EXTERNAL_DATA_MODEL);
  await expect(page.getByRole('combobox', { name: 'Weights' })).toHaveValue('detect');
  await page.getByRole('button', { name: 'Load this model' }).click();
  await expect(page.getByLabel('Engine')).toContainText('phi-2-tiny q8 · transformers.js');
});

test('a failed load from a URL leaves nothing of the model stored', async ({ page }) => {
  // The server has the graph but lost its data file, after the probe said it was there.
  let probed = false;
  await page.route(`**${EXTERNAL_DATA_MODEL}${DATA_FILE}`, (route) => {
    if (route.request().method() === 'HEAD' && !probed) {
      probed = true;
      return route.continue();
    }
    return route.fulfill({ status: 404, body: 'Not found' });
  });
  await page.goto(`./?model=${encodeURIComponent(EXTERNAL_DATA_MODEL)}&file=decoder_model_merged&dtype=q8&webllm=${encodeURIComponent(EMPTY_WEBLLM_MIRROR)}`);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByRole('alert')).toContainText(`Missing weights file ${DATA_FILE}`);
  expect(await storedModels(page)).toEqual([]);
});
