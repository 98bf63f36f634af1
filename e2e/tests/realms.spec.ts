// Managing realms: create, list, disable and enable, delete with confirmation.

import { expect, test, type Page } from '@playwright/test';
import { api, dialog, shot, signIn, statusMessage, uniqueName } from './support';

function realmRow(page: Page, name: string) {
  return page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
}

test('create a realm, disable and enable it, delete it with confirmation', async ({ page }, testInfo) => {
  const name = uniqueName('realm');
  const displayName = `Display ${name}`;

  await signIn(page, testInfo);

  // The root realm cannot be deleted.
  const rootRow = realmRow(page, 'root');
  await expect(rootRow).toBeVisible();
  await expect(rootRow.getByRole('button', { name: 'Delete', exact: true })).toHaveCount(0);

  // Create.
  await page.getByRole('button', { name: '+ New realm', exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Display name', { exact: true }).fill(displayName);
  await shot(page, testInfo, 'new-realm-form');
  await page.getByRole('button', { name: 'Create realm', exact: true }).click();
  await expect(statusMessage(page, 'Realm created.')).toBeVisible();

  const created = await api.getRealm(name);
  expect(created.status).toBe(200);
  expect(created.body.display_name).toBe(displayName);
  expect(created.body.enabled).toBe(true);

  // Listed, also after a reload.
  await page.goto('/console/realms');
  const row = realmRow(page, name);
  await expect(row).toBeVisible();
  await expect(row).toContainText(displayName);
  await expect(row.getByText('Enabled', { exact: true })).toBeVisible();
  await shot(page, testInfo, 'realm-listed');

  // Disable.
  await row.getByRole('button', { name: 'Disable', exact: true }).click();
  await expect(row.getByText('Disabled', { exact: true })).toBeVisible();
  await expect(row.getByRole('button', { name: 'Enable', exact: true })).toBeVisible();
  await expect.poll(async () => (await api.getRealm(name)).body.enabled).toBe(false);
  await shot(page, testInfo, 'realm-disabled');

  // Enable.
  await row.getByRole('button', { name: 'Enable', exact: true }).click();
  await expect(row.getByRole('button', { name: 'Disable', exact: true })).toBeVisible();
  await expect(row.getByText('Disabled', { exact: true })).toHaveCount(0);
  await expect(row.getByText('Enabled', { exact: true })).toBeVisible();
  await expect.poll(async () => (await api.getRealm(name)).body.enabled).toBe(true);

  // Delete, cancelled: the realm stays.
  await row.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(dialog(page)).toBeVisible();
  await shot(page, testInfo, 'delete-dialog');
  await dialog(page).getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(dialog(page)).toHaveCount(0);
  await expect(row).toBeVisible();
  expect((await api.getRealm(name)).status).toBe(200);

  // Delete, confirmed: the realm is gone.
  await row.getByRole('button', { name: 'Delete', exact: true }).click();
  await dialog(page).getByRole('button', { name: 'Delete realm', exact: true }).click();
  await expect(dialog(page)).toHaveCount(0);
  await expect(realmRow(page, name)).toHaveCount(0);
  await expect.poll(async () => (await api.getRealm(name)).status).toBe(404);
  await page.reload();
  await expect(page.getByRole('link', { name: 'root', exact: true })).toBeVisible();
  await expect(realmRow(page, name)).toHaveCount(0);
  await shot(page, testInfo, 'realm-deleted');
});
