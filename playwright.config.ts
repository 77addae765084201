import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './e2e/browser';

// E2E_PORT lets several checkouts run their suites side by side.
const PORT = Number(process.env.E2E_PORT ?? 4173);
// A GitHub Pages stand-in: the app under a sub-path, with no isolation headers from the server.
const PAGES_PORT = PORT + 100;
const PAGES_BASE = '/phi-chat/';

export default defineConfig({
  testDir: 'e2e',
  timeout: 90_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  globalSetup: './e2e/global-setup.ts',
  use: {
    trace: 'retain-on-failure',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
  },
  projects: [
    { name: 'isolated-server', testIgnore: /pages\.spec\.ts/, use: { baseURL: `http://127.0.0.1:${PORT}/` } },
    { name: 'pages-sub-path', testMatch: /pages\.spec\.ts/, use: { baseURL: `http://127.0.0.1:${PAGES_PORT}${PAGES_BASE}` } },
  ],
  webServer: [
    {
      command: `npx tsx scripts/serve.ts --port ${PORT} --models e2e/.model`,
      url: `http://127.0.0.1:${PORT}/`,
      reuseExistingServer: !process.env.CI,
    },
    {
      command: `npx tsx scripts/serve.ts --port ${PAGES_PORT} --models e2e/.model --base ${PAGES_BASE} --no-isolation`,
      url: `http://127.0.0.1:${PAGES_PORT}${PAGES_BASE}`,
      reuseExistingServer: !process.env.CI,
    },
  ],
});
