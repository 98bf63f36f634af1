// The audit log in the console: a change made in the console shows in the realm's Audit page
// with the administrator as its actor, the action, and its values; the filters narrow it.

import { expect, test } from '@playwright/test';
import { adminPassword, adminUsername, api, realmNav, shot, signIn, statusMessage, uniqueName } from './support';

test('a change made in the console shows in the audit log', async ({ page }, testInfo) => {
  const realm = uniqueName('audit');
  await api.createRealm(realm);
  await signIn(page, testInfo);

  // A new realm's own log is empty (its creation is in root's log).
  await page.goto(`/console/realms/${realm}/applications`);
  await realmNav(page).getByRole('link', { name: 'Audit', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/console/realms/${realm}/audit$`));
  await expect(page.getByRole('heading', { name: 'Audit', exact: true })).toBeVisible();
  await expect(realmNav(page).getByRole('link', { name: 'Audit', exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByText('No audit events yet.')).toBeVisible();
  await shot(page, testInfo, 'audit-empty');

  // A change in the console: a new identity with a password.
  const username = uniqueName('carol');
  const password = 'carols-password-never-shown';
  await page.goto(`/console/realms/${realm}/identities/new`);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create identity', exact: true }).click();
  await expect(statusMessage(page, 'Identity created.')).toBeVisible();

  // It is in the log, by the console's administrator.
  await realmNav(page).getByRole('link', { name: 'Audit', exact: true }).click();
  const row = page.getByRole('row').filter({ hasText: 'user.create' });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(adminUsername());
  await expect(row).toContainText('console user');
  await expect(row).toContainText(`identity \`${username}\` created`);
  await row.getByText('Before and after').click();
  await expect(row.locator('pre')).toContainText(`"username": "${username}"`);
  await expect(row.locator('pre')).toContainText('"has_password": true');
  await shot(page, testInfo, 'audit-user-create');
  // Never the password, nor anyone's.
  expect(await page.content()).not.toContain(password);
  expect(await page.content()).not.toContain(adminPassword());

  // Filters: by action and actor, then one that matches nothing.
  await page.getByLabel('Action', { exact: true }).selectOption('user.create');
  await page.getByLabel('Actor', { exact: true }).fill(adminUsername());
  await page.getByRole('button', { name: 'Apply filters', exact: true }).click();
  await expect(page).toHaveURL(/action=user\.create/);
  await expect(page.getByRole('row').filter({ hasText: 'user.create' })).toHaveCount(1);
  await page.getByLabel('Actor', { exact: true }).fill('nobody-at-all');
  await page.getByRole('button', { name: 'Apply filters', exact: true }).click();
  await expect(page.getByText('No audit events match these filters.')).toBeVisible();
  await shot(page, testInfo, 'audit-filtered-out');
  await page.getByRole('button', { name: 'Clear filters', exact: true }).click();
  await expect(page.getByRole('row').filter({ hasText: 'user.create' })).toHaveCount(1);

  // The API agrees: the actor is the console username.
  const log = await api.must(200, 'GET', `/realms/${realm}/audit?action=user.create`);
  expect(log.items[0].actor).toBe(adminUsername());
  expect(log.items[0].actor_type).toBe('user');
});
