import { expect, modelLink, reply, sendMessage, test, waitForReplyEnd, inferenceWorkers } from './fixtures';

// Served like GitHub Pages: from a sub-path, by a server that sends no isolation headers.

test('the service worker makes the page cross-origin isolated, with one reload at most', async ({ page }) => {
  const loads: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) loads.push(frame.url());
  });
  const first = await page.goto(modelLink());
  expect(first!.headers()['cross-origin-opener-policy'], 'the server itself does not isolate').toBeUndefined();

  await expect.poll(() => page.evaluate(() => crossOriginIsolated).catch(() => false)).toBe(true);
  await page.getByRole('button', { name: 'Load model' }).click();
  await expect(page.getByLabel('Engine')).toContainText(/CPU \(WASM, \d+ threads?\)/);
  const [worker] = inferenceWorkers(page);
  expect(await worker.evaluate(() => self.crossOriginIsolated), 'the inference worker can use threads').toBe(true);
  await sendMessage(page, 'Hello from a sub-path.');
  await waitForReplyEnd(page, 0);
  await expect(reply(page, 0).getByTestId('reply-text')).not.toBeEmpty();
  expect(loads, 'the first visit and one reload, never a loop').toHaveLength(2);
});

test('the app, its manifest and icons resolve under the sub-path', async ({ page, context, baseURL }) => {
  await page.goto('./');
  await expect(page.getByRole('heading', { name: 'Phi Chat' })).toBeVisible();
  const cdp = await context.newCDPSession(page);
  const { url, errors, manifest } = (await cdp.send('Page.getAppManifest')) as {
    url: string;
    errors: unknown[];
    manifest: { startUrl: string; scope: string; display: string; icons: { url: string }[] };
  };
  expect(url).toBe(`${baseURL}manifest.webmanifest`);
  expect(errors).toEqual([]);
  expect(manifest).toMatchObject({ startUrl: baseURL, scope: baseURL, display: 'kStandalone' });
  expect(manifest.icons.map((icon) => icon.url)).toEqual([
    `${baseURL}icons/icon-192.png`,
    `${baseURL}icons/icon-512.png`,
    `${baseURL}icons/icon-maskable-512.png`,
  ]);
  for (const icon of manifest.icons) {
    const response = await page.request.get(icon.url);
    expect(response.headers()['content-type']).toBe('image/png');
  }
});
