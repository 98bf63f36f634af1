// Bad input shows its error at the field at fault, the form can be sent again, and nothing is
// created or changed.

import { expect, test, type Locator, type Page } from '@playwright/test';
import { api, realmWithApp, shot, signIn, statusMessage, uniqueName } from './support';

/** Opens the wizard of a realm and goes through method (OIDC) and type (Web) to the details. */
async function wizardDetails(page: Page, realm: string): Promise<void> {
  await page.goto(`/console/realms/${realm}/applications/new`);
  await expect(page.getByRole('heading', { name: 'Choose a sign-in method' })).toBeVisible();
  await page.getByRole('radio', { name: 'OIDC - OpenID Connect' }).check();
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Choose an application type' })).toBeVisible();
  await page.getByRole('radio', { name: 'Web', exact: true }).check();
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Application details' })).toBeVisible();
}

/** The input shows the error right under it, by the ARIA conventions of CONTRACT.md. */
async function expectFieldError(page: Page, input: Locator, id: string): Promise<void> {
  const error = page.locator(`#${id}-error`);
  await expect(error).toBeVisible();
  await expect(error).toHaveText(/\S/);
  await expect(input).toHaveAttribute('id', id);
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  await expect(input).toHaveAttribute('aria-describedby', new RegExp(`(^|\\s)${id}-error(\\s|$)`));
}

test('a duplicate client ID is reported at the Client ID field', async ({ page }, testInfo) => {
  const { realm, clientId } = await realmWithApp('dup');
  const original = (await api.getApp(realm, clientId)).body;

  await signIn(page, testInfo);
  await wizardDetails(page, realm);
  await page.getByLabel('Name', { exact: true }).fill('The duplicate');
  await page.getByLabel('Client ID', { exact: true }).fill(clientId);
  await page.getByLabel('Client Secret', { exact: true }).fill('another-secret-123');
  const submit = page.getByRole('button', { name: 'Create Application', exact: true });
  await submit.click();

  await expectFieldError(page, page.getByLabel('Client ID', { exact: true }), 'client_id');
  await expect(submit).toBeEnabled();
  await expect(page.getByRole('heading', { name: 'Application created' })).toHaveCount(0);
  // The other fields keep what was typed.
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('The duplicate');
  await shot(page, testInfo, 'duplicate-client-id');

  const apps = await api.listApps(realm);
  expect(apps.map((a) => a.client_id)).toEqual([clientId]);
  expect(apps[0].client_name).toBe(original.client_name);
  expect(apps[0].updated_at).toBe(original.updated_at);
});

test('a sign-in URL with a fragment is reported at the Sign-in URLs field', async ({ page }, testInfo) => {
  const { realm, clientId } = await realmWithApp('frag');
  const good = 'https://app.example/cb';
  await api.must(200, 'PATCH', `/realms/${realm}/applications/${clientId}`, { redirect_uris: [good] });

  await signIn(page, testInfo);
  await page.goto(`/console/realms/${realm}/applications/${clientId}/sign-on`);
  await expect(page.getByRole('heading', { name: 'General Settings' })).toBeVisible();
  const urls = page.getByLabel('Sign-in URLs', { exact: true });
  await expect(urls).toHaveValue(good);
  await urls.fill('https://app.example/cb#frag');
  const save = page.getByRole('button', { name: 'Save', exact: true });
  await save.click();

  await expectFieldError(page, urls, 'redirect_uris');
  await expect(save).toBeEnabled();
  await expect(statusMessage(page, 'Saved.')).toHaveCount(0);
  await shot(page, testInfo, 'fragment-url');

  expect((await api.getApp(realm, clientId)).body.redirect_uris).toEqual([good]);
});

test('an empty name is reported at the Name field', async ({ page }, testInfo) => {
  const realm = uniqueName('noname');
  await api.createRealm(realm);
  const clientId = uniqueName('nameless');

  await signIn(page, testInfo);
  await wizardDetails(page, realm);
  const name = page.getByLabel('Name', { exact: true });
  await name.fill('');
  await page.getByLabel('Client ID', { exact: true }).fill(clientId);
  await page.getByLabel('Client Secret', { exact: true }).fill('a-typed-secret-123');
  const submit = page.getByRole('button', { name: 'Create Application', exact: true });
  await submit.click();

  await expectFieldError(page, name, 'client_name');
  await expect(submit).toBeEnabled();
  await expect(page.getByRole('heading', { name: 'Application created' })).toHaveCount(0);
  await shot(page, testInfo, 'empty-name');

  expect((await api.getApp(realm, clientId)).status).toBe(404);
  expect(await api.listApps(realm)).toEqual([]);
});
