// Managing a realm's identities: create, edit, reset a password, delete with confirmation.

import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { api, dialog, realmNav, shot, signIn, statusMessage, uniqueName } from './support';

interface NewIdentity {
  username: string;
  password?: string;
  email: string;
  givenName: string;
  familyName: string;
}

async function createInConsole(page: Page, testInfo: TestInfo, realm: string, who: NewIdentity) {
  await page.goto(`/console/realms/${realm}/identities`);
  await expect(page.getByRole('heading', { name: 'Identities', exact: true })).toBeVisible();
  await page.getByRole('link', { name: '+ New identity', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/console/realms/${realm}/identities/new$`));
  await page.getByLabel('Username', { exact: true }).fill(who.username);
  if (who.password) await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByLabel('Email', { exact: true }).fill(who.email);
  await page.getByLabel('First name', { exact: true }).fill(who.givenName);
  await page.getByLabel('Last name', { exact: true }).fill(who.familyName);
  await expect(page.getByRole('checkbox', { name: 'Enabled', exact: true })).toBeChecked();
  await shot(page, testInfo, `new-identity-${who.username}`);
  await page.getByRole('button', { name: 'Create identity', exact: true }).click();
  await expect(statusMessage(page, 'Identity created.')).toBeVisible();
  await shot(page, testInfo, `created-${who.username}`);
}

test('create, edit, reset the password of and delete identities', async ({ page }, testInfo) => {
  const realm = uniqueName('ids');
  await api.createRealm(realm);

  await signIn(page, testInfo);
  await page.goto(`/console/realms/${realm}/identities`);
  await expect(page.getByRole('heading', { name: 'Identities', exact: true })).toBeVisible();
  await expect(realmNav(page).getByRole('link', { name: 'Identities', exact: true })).toHaveAttribute(
    'aria-current',
    'page',
  );
  await expect(page.getByText('No identities yet.')).toBeVisible();
  await shot(page, testInfo, 'identities-empty');

  // The application owner (with a password) and the resource owner (without one yet).
  const appOwner: NewIdentity = {
    username: 'app-owner',
    password: 'app-owner-password-1',
    email: 'app.owner@example.com',
    givenName: 'Ada',
    familyName: 'Owner',
  };
  const resourceOwner: NewIdentity = {
    username: 'resource-owner',
    email: 'resource.owner@example.com',
    givenName: 'Rob',
    familyName: 'Resource',
  };
  await createInConsole(page, testInfo, realm, appOwner);
  await createInConsole(page, testInfo, realm, resourceOwner);

  const users = await api.listUsers(realm);
  expect(users.map((u) => u.username).sort()).toEqual(['app-owner', 'resource-owner']);
  const a = users.find((u) => u.username === 'app-owner');
  expect(a).toMatchObject({
    email: appOwner.email,
    given_name: appOwner.givenName,
    family_name: appOwner.familyName,
    enabled: true,
    has_password: true,
  });
  const r = users.find((u) => u.username === 'resource-owner');
  expect(r).toMatchObject({
    email: resourceOwner.email,
    given_name: resourceOwner.givenName,
    family_name: resourceOwner.familyName,
    enabled: true,
    has_password: false,
  });

  // Both are listed.
  await page.goto(`/console/realms/${realm}/identities`);
  await expect(page.getByRole('link', { name: 'app-owner', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'resource-owner', exact: true })).toBeVisible();
  await expect(page.getByText('No identities yet.')).toHaveCount(0);
  await shot(page, testInfo, 'identities-listed');

  // Search narrows the list.
  await page.getByLabel('Search identities', { exact: true }).fill('RESOURCE');
  await expect(page.getByRole('link', { name: 'app-owner', exact: true })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'resource-owner', exact: true })).toBeVisible();
  await page.getByLabel('Search identities', { exact: true }).fill('');
  await expect(page.getByRole('link', { name: 'app-owner', exact: true })).toBeVisible();

  // Edit the resource owner.
  await page.getByRole('link', { name: 'resource-owner', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/console/realms/${realm}/identities/resource-owner$`));
  await expect(page.getByLabel('Email', { exact: true })).toHaveValue(resourceOwner.email);
  await expect(page.getByLabel('First name', { exact: true })).toHaveValue(resourceOwner.givenName);
  await expect(page.getByLabel('Last name', { exact: true })).toHaveValue(resourceOwner.familyName);
  await page.getByLabel('Email', { exact: true }).fill('rob@example.org');
  await page.getByLabel('First name', { exact: true }).fill('Robert');
  await page.getByRole('checkbox', { name: 'Enabled', exact: true }).uncheck();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(statusMessage(page, 'Saved.')).toBeVisible();
  await shot(page, testInfo, 'identity-saved');
  await expect
    .poll(async () => (await api.getUser(realm, 'resource-owner')).body)
    .toMatchObject({ email: 'rob@example.org', given_name: 'Robert', family_name: resourceOwner.familyName, enabled: false });
  await page.reload();
  await expect(page.getByLabel('Email', { exact: true })).toHaveValue('rob@example.org');
  await expect(page.getByLabel('First name', { exact: true })).toHaveValue('Robert');
  await expect(page.getByRole('checkbox', { name: 'Enabled', exact: true })).not.toBeChecked();

  // Reset (here: set) the resource owner's password.
  await page.getByLabel('New password', { exact: true }).fill('a-brand-new-password-2');
  await page.getByRole('button', { name: 'Reset password', exact: true }).click();
  await expect(statusMessage(page, /\S/).first()).toBeVisible();
  await shot(page, testInfo, 'password-reset');
  await expect.poll(async () => (await api.getUser(realm, 'resource-owner')).body.has_password).toBe(true);

  // Delete the application owner: cancelled, then confirmed.
  await page.goto(`/console/realms/${realm}/identities/app-owner`);
  await expect(page.getByLabel('Email', { exact: true })).toHaveValue(appOwner.email);
  await page.getByRole('button', { name: 'Delete identity', exact: true }).click();
  await expect(dialog(page)).toBeVisible();
  await shot(page, testInfo, 'delete-dialog');
  await dialog(page).getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(dialog(page)).toHaveCount(0);
  expect((await api.getUser(realm, 'app-owner')).status).toBe(200);

  await page.getByRole('button', { name: 'Delete identity', exact: true }).click();
  await dialog(page).getByRole('button', { name: 'Delete identity', exact: true }).click();
  await expect(dialog(page)).toHaveCount(0);
  await expect.poll(async () => (await api.getUser(realm, 'app-owner')).status).toBe(404);
  expect((await api.getUser(realm, 'resource-owner')).status).toBe(200);

  await page.goto(`/console/realms/${realm}/identities`);
  await expect(page.getByRole('link', { name: 'resource-owner', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'app-owner', exact: true })).toHaveCount(0);
  await shot(page, testInfo, 'identity-deleted');
});
