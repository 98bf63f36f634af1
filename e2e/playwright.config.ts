import { defineConfig } from '@playwright/test';

// The server under test is started by `cargo xtask e2e`, which hands its address over here.
const baseURL = process.env.LATCHKEY_E2E_URL;
if (!baseURL) {
  throw new Error(
    'LATCHKEY_E2E_URL is not set: it must be the address of the Latchkey server under test ' +
      '(for example http://127.0.0.1:8092). Run the browser tests with `cargo xtask e2e`, which ' +
      'starts a server on a fresh database and sets LATCHKEY_E2E_URL, LATCHKEY_E2E_ADMIN_USERNAME, ' +
      'LATCHKEY_E2E_ADMIN_PASSWORD, LATCHKEY_E2E_OPERATOR_ID and LATCHKEY_E2E_OPERATOR_SECRET.',
  );
}

export default defineConfig({
  testDir: 'tests',
  outputDir: 'test-results',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  // The wasm console starts slowly on a small machine.
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL: baseURL.replace(/\/+$/, ''),
    browserName: 'chromium',
    headless: true,
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    screenshot: 'on',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
