// Rotating an application's client secret from the Credentials tab.

import { expect, test } from '@playwright/test';
import { dialog, realmWithApp, shot, signIn, token } from './support';

test('rotating the secret retires the old one and shows the new one once', async ({ page }, testInfo) => {
  const { realm, clientId, secret: oldSecret } = await realmWithApp('creds');
  const before = await token(realm, clientId, oldSecret);
  expect(before.status, JSON.stringify(before.body)).toBe(200);

  await signIn(page, testInfo);
  await page.goto(`/console/realms/${realm}/applications/${clientId}`);
  await expect(page).toHaveURL(new RegExp(`/applications/${clientId}/general$`));
  await page.getByRole('link', { name: 'Credentials', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/console/realms/${realm}/applications/${clientId}/credentials$`));
  await expect(page.getByRole('link', { name: 'Credentials', exact: true })).toHaveAttribute('aria-current', 'page');
  await shot(page, testInfo, 'credentials');

  // Cancelled: nothing changes.
  await page.getByRole('button', { name: 'Rotate secret', exact: true }).click();
  await expect(dialog(page)).toBeVisible();
  await shot(page, testInfo, 'rotate-dialog');
  await dialog(page).getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(dialog(page)).toHaveCount(0);
  await expect(page.getByLabel('New client secret', { exact: true })).toHaveCount(0);
  expect((await token(realm, clientId, oldSecret)).status).toBe(200);

  // Confirmed: a new secret, shown once.
  await page.getByRole('button', { name: 'Rotate secret', exact: true }).click();
  await dialog(page).getByRole('button', { name: 'Rotate secret', exact: true }).click();
  const input = page.getByLabel('New client secret', { exact: true });
  await expect(input).toBeVisible();
  await expect(input).not.toBeEditable();
  await expect(input).toHaveValue(/\S{8,}/);
  await expect(page.getByText('This secret will not be shown again.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Copy', exact: true })).toBeVisible();
  await shot(page, testInfo, 'new-secret');
  const newSecret = await input.inputValue();
  expect(newSecret).not.toBe(oldSecret);

  // The old secret no longer works at the token endpoint; the new one does.
  const old = await token(realm, clientId, oldSecret);
  expect(old.status).toBe(401);
  expect(old.body.error).toBe('invalid_client');
  const fresh = await token(realm, clientId, newSecret);
  expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
  expect(typeof fresh.body.access_token).toBe('string');

  // Shown once: after a reload the secret is gone from the page.
  await page.reload();
  await expect(page.getByRole('button', { name: 'Rotate secret', exact: true })).toBeVisible();
  await expect(page.getByLabel('New client secret', { exact: true })).toHaveCount(0);
  await expect(page.getByText(newSecret)).toHaveCount(0);
});
