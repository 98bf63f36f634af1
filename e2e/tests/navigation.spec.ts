// Getting around: a deep link survives signing in, dialogs work from the keyboard alone, a
// search lives in the URL, and "Try it" reports OAuth errors and explains what it cannot do.

import { expect, test } from '@playwright/test';
import {
  adminPassword,
  adminUsername,
  baseURL,
  dialog,
  jsonBlock,
  realmNav,
  realmWithApp,
  shot,
  signIn,
} from './support';

test('a deep link leads through sign-in back to the page, and Try it shows OAuth errors', async ({ page }, testInfo) => {
  const { realm, clientId, secret } = await realmWithApp('deeplink');

  await page.goto(`/console/realms/${realm}/applications/${clientId}/try`);
  await expect(page).toHaveURL(/\/console\/login\?next=/);
  await shot(page, testInfo, 'login-with-next');
  await page.getByLabel('Username', { exact: true }).fill(adminUsername());
  await page.getByLabel('Password', { exact: true }).fill(adminPassword());
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/console/realms/${realm}/applications/${clientId}/try$`));
  await expect(page.getByRole('link', { name: 'Try it', exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(realmNav(page).getByRole('link', { name: 'Applications' })).toHaveAttribute('aria-current', 'page');

  const curl = await page.getByTestId('curl-command').textContent();
  expect(curl?.trim()).toBe(
    `curl -s -u '${clientId}:CLIENT_SECRET' -d grant_type=client_credentials ${baseURL()}/oauth2/realms/${realm}/access_token`,
  );

  await page.getByLabel('Client Secret', { exact: true }).fill('not-the-secret');
  await page.getByRole('button', { name: 'Request token', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('invalid_client');
  expect((await jsonBlock(page, 'token-response')).error).toBe('invalid_client');
  await shot(page, testInfo, 'try-it-wrong-secret');

  await page.getByLabel('Client Secret', { exact: true }).fill(secret);
  await page.getByRole('button', { name: 'Request token', exact: true }).click();
  expect((await jsonBlock(page, 'jwt-claims')).client_id).toBe(clientId);
  expect((await jsonBlock(page, 'introspection')).active).toBe(true);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await shot(page, testInfo, 'try-it-token');
});

test('a confirmation dialog works from the keyboard alone', async ({ page }, testInfo) => {
  const { realm, clientId } = await realmWithApp('keyboard');
  await signIn(page);
  await page.goto(`/console/realms/${realm}/applications/${clientId}/credentials`);
  const rotate = page.getByRole('button', { name: 'Rotate secret', exact: true });
  await rotate.focus();
  await page.keyboard.press('Enter');
  const confirm = dialog(page).getByRole('button', { name: 'Rotate secret' });
  const cancel = dialog(page).getByRole('button', { name: 'Cancel' });
  await expect(confirm).toBeFocused();
  await shot(page, testInfo, 'dialog-open');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(rotate).toBeFocused();

  // Focus stays inside the open dialog.
  await page.keyboard.press('Enter');
  await expect(confirm).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(cancel).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(confirm).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(cancel).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(rotate).toBeFocused();
  await expect(page.getByLabel('New client secret')).toHaveCount(0);
});

test('a search is kept in the URL and survives a reload', async ({ page }, testInfo) => {
  const { realm, clientId } = await realmWithApp('search');
  await signIn(page);
  await page.goto(`/console/realms/${realm}/applications`);
  await expect(page.getByRole('link', { name: clientId })).toBeVisible();
  const search = page.getByLabel('Search applications');
  await search.fill('zzz-nothing');
  await expect(page).toHaveURL(/search=zzz-nothing/);
  await expect(page.getByRole('link', { name: clientId })).toHaveCount(0);
  await page.reload();
  await expect(page.getByLabel('Search applications')).toHaveValue('zzz-nothing');
  await expect(page.getByRole('link', { name: clientId })).toHaveCount(0);
  await shot(page, testInfo, 'no-match');
  await page.getByLabel('Search applications').fill(clientId.slice(0, 8).toUpperCase());
  await expect(page.getByRole('link', { name: clientId })).toBeVisible();
  await shot(page, testInfo, 'match');
});

test('a public application gets no secret and Try it says why it cannot be tried', async ({ page }, testInfo) => {
  const { realm } = await realmWithApp('public');
  await signIn(page);
  await page.goto(`/console/realms/${realm}/applications/new`);
  await page.getByRole('radio', { name: 'OIDC - OpenID Connect' }).check();
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByRole('radio', { name: 'Native', exact: true }).check();
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await expect(page.getByLabel('Client Secret', { exact: true })).toHaveCount(0);
  await page.getByLabel('Name', { exact: true }).fill('Mobile app');
  await page.getByLabel('Client ID', { exact: true }).fill('mobile-app');
  await page.getByRole('button', { name: 'Create Application', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Application created' })).toBeVisible();
  await expect(page.getByText('This secret will not be shown again.')).toHaveCount(0);
  await shot(page, testInfo, 'created-public');
  await page.getByRole('link', { name: 'Open application' }).click();
  await page.getByRole('link', { name: 'Try it', exact: true }).click();
  await expect(page.getByText('public client')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Request token' })).toHaveCount(0);
  await shot(page, testInfo, 'try-it-public');
});
