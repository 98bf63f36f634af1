// Registering an application through the wizard, letting it use client credentials, and
// trying it: a token from the realm's token endpoint outside the browser, and the same from
// the console's "Try it" tab.

import { expect, test } from '@playwright/test';
import {
  api,
  baseURL,
  decodeJwt,
  introspect,
  issuer,
  jsonBlock,
  realmNav,
  selectedValues,
  shot,
  signIn,
  statusMessage,
  token,
  uniqueName,
} from './support';

test('register a web application, allow client credentials, get a token and try it', async ({ page }, testInfo) => {
  const realm = uniqueName('apps');
  await api.createRealm(realm);
  await api.createUser(realm, {
    username: 'app-owner',
    password: 'app-owner-password-1',
    email: 'app.owner@example.com',
    given_name: 'Ada',
    family_name: 'Owner',
  });
  await api.createUser(realm, { username: 'resource-owner', email: 'rob@example.com', given_name: 'Rob' });

  const clientId = uniqueName('web-client');
  const secret = `typed-secret-${uniqueName('x')}`;
  const name = 'Customer data sync';
  const signInUrl = 'https://sync.example.com/callback';
  const base = `/console/realms/${realm}/applications`;

  await signIn(page, testInfo);
  await page.goto(base);
  await expect(page.getByRole('heading', { name: 'Applications', exact: true })).toBeVisible();
  await expect(page.getByText('No applications yet.')).toBeVisible();
  await shot(page, testInfo, 'applications-empty');

  // The wizard: method, type, details.
  await page.getByRole('link', { name: '+ Custom Application', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`${base}/new$`));
  await expect(page.getByRole('heading', { name: 'Choose a sign-in method' })).toBeVisible();
  await page.getByRole('radio', { name: 'OIDC - OpenID Connect' }).check();
  await shot(page, testInfo, 'wizard-method');
  await page.getByRole('button', { name: 'Next', exact: true }).click();

  await expect(page.getByRole('heading', { name: 'Choose an application type' })).toBeVisible();
  await page.getByRole('radio', { name: 'Web', exact: true }).check();
  await shot(page, testInfo, 'wizard-type');
  await page.getByRole('button', { name: 'Next', exact: true }).click();

  await expect(page.getByRole('heading', { name: 'Application details' })).toBeVisible();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Description', { exact: true }).fill('Syncs customer data every night.');
  const owners = page.getByRole('group', { name: 'Owners' });
  await expect(owners.getByRole('checkbox', { name: 'resource-owner', exact: true })).toBeVisible();
  await owners.getByRole('checkbox', { name: 'app-owner', exact: true }).check();
  await page.getByLabel('Client ID', { exact: true }).fill(clientId);
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeVisible();
  await page.getByLabel('Client Secret', { exact: true }).fill(secret);
  await shot(page, testInfo, 'wizard-details');
  await page.getByRole('button', { name: 'Create Application', exact: true }).click();

  // The secret, shown once.
  await expect(page.getByRole('heading', { name: 'Application created' })).toBeVisible();
  const shown = page.getByLabel('Client Secret', { exact: true });
  await expect(shown).toHaveValue(secret);
  await expect(shown).not.toBeEditable();
  await expect(page.getByText('This secret will not be shown again.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Copy', exact: true })).toBeVisible();
  await shot(page, testInfo, 'application-created');

  const created = await api.getApp(realm, clientId);
  expect(created.status).toBe(200);
  expect(created.body).toMatchObject({
    client_id: clientId,
    client_name: name,
    description: 'Syncs customer data every night.',
    sign_in_method: 'oidc',
    application_type: 'web',
    owners: ['app-owner'],
  });

  await page.getByRole('link', { name: 'Open application', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`${base}/${clientId}/general$`));
  await expect(page.getByRole('link', { name: 'General', exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue(name);
  await expect(page.getByRole('group', { name: 'Owners' }).getByRole('checkbox', { name: 'app-owner', exact: true })).toBeChecked();
  await shot(page, testInfo, 'application-general');

  // Sign On: the sign-in URL, and Client Credentials among the grant types.
  await page.getByRole('link', { name: 'Sign On', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`${base}/${clientId}/sign-on$`));
  await expect(page.getByRole('heading', { name: 'General Settings' })).toBeVisible();
  const grants = page.getByLabel('Grant Types', { exact: true });
  await expect(grants.getByRole('option', { name: 'Client Credentials', exact: true })).toHaveCount(1);
  const selected = await selectedValues(grants);
  if (!selected.includes('client_credentials')) {
    await grants.selectOption([...selected, 'client_credentials']);
  }
  await page.getByLabel('Sign-in URLs', { exact: true }).fill(signInUrl);
  // A token needs a scope: the application allows two, and grants one when none is asked for.
  await page.getByLabel('Allowed scopes', { exact: true }).fill('read write');
  await page.getByLabel('Default scopes', { exact: true }).fill('read');
  await shot(page, testInfo, 'sign-on-filled');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(statusMessage(page, 'Saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Sign-in URLs', { exact: true })).toHaveValue(signInUrl);
  await expect(page.getByLabel('Allowed scopes', { exact: true })).toHaveValue('read write');
  await expect(page.getByLabel('Default scopes', { exact: true })).toHaveValue('read');
  await expect.poll(() => selectedValues(page.getByLabel('Grant Types', { exact: true }))).toContain('client_credentials');
  await shot(page, testInfo, 'sign-on-saved');
  const signOn = (await api.getApp(realm, clientId)).body;
  expect(signOn.redirect_uris).toEqual([signInUrl]);
  expect(signOn.grant_types).toContain('client_credentials');
  expect(signOn.allowed_scopes).toEqual(['read', 'write']);
  expect(signOn.default_scopes).toEqual(['read']);

  // The realm's OAuth2 provider allows Client Credentials.
  await realmNav(page).getByRole('link', { name: 'OAuth2 Provider', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/console/realms/${realm}/provider/core$`));
  await page.getByRole('link', { name: 'Advanced', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/console/realms/${realm}/provider/advanced$`));
  const realmGrants = page.getByLabel('Grant Types', { exact: true });
  await expect(realmGrants.getByRole('option', { name: 'Client Credentials', exact: true })).toHaveCount(1);
  const realmSelected = await selectedValues(realmGrants);
  if (!realmSelected.includes('client_credentials')) {
    await realmGrants.selectOption([...realmSelected, 'client_credentials']);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(statusMessage(page, 'Saved.')).toBeVisible();
  }
  await page.reload();
  await expect.poll(() => selectedValues(page.getByLabel('Grant Types', { exact: true }))).toContain('client_credentials');
  await shot(page, testInfo, 'provider-advanced');
  expect((await api.provider(realm)).grant_types).toContain('client_credentials');

  // Outside the browser: a token from the realm's token endpoint, checked by introspection.
  const t = await token(realm, clientId, secret);
  expect(t.status, JSON.stringify(t.body)).toBe(200);
  expect(t.body.token_type).toBe('Bearer');
  const accessToken: string = t.body.access_token;
  const outside = decodeJwt(accessToken).claims;
  const i = await introspect(realm, clientId, secret, accessToken);
  expect(i.status, JSON.stringify(i.body)).toBe(200);
  expect(i.body.active).toBe(true);
  expect(i.body.client_id).toBe(clientId);
  expect(i.body.iss).toBe(issuer(realm));
  expect(outside.iss).toBe(issuer(realm));
  expect(outside.client_id).toBe(clientId);
  expect(outside.scope).toBe('read');

  // The same from the console's "Try it" tab.
  await page.goto(`${base}/${clientId}`);
  await expect(page).toHaveURL(new RegExp(`${base}/${clientId}/general$`));
  await page.getByRole('link', { name: 'Try it', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`${base}/${clientId}/try$`));
  await expect(page.getByRole('heading', { name: 'Try it', exact: true })).toBeVisible();
  const curl = page.getByTestId('curl-command');
  await expect(curl).toContainText(`${baseURL()}/oauth2/realms/${realm}/access_token`);
  await expect(curl).toContainText(clientId);
  await expect(curl).toContainText('client_credentials');
  await page.getByLabel('Client Secret', { exact: true }).fill(secret);
  await page.getByRole('button', { name: 'Request token', exact: true }).click();

  for (const heading of ['Token response', 'JWT header', 'JWT claims', 'Introspection']) {
    await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
  }
  const tokenResponse = await jsonBlock(page, 'token-response');
  expect(tokenResponse.token_type).toBe('Bearer');
  expect(typeof tokenResponse.access_token).toBe('string');
  const header = await jsonBlock(page, 'jwt-header');
  expect(header.alg).toBe((await api.provider(realm)).signing_alg);
  const claims = await jsonBlock(page, 'jwt-claims');
  for (const claim of ['iss', 'client_id', 'sub', 'aud', 'scope']) {
    expect(claims[claim], `claim ${claim}`).toEqual(outside[claim]);
  }
  expect(claims.iss).toBe(issuer(realm));
  const introspection = await jsonBlock(page, 'introspection');
  expect(introspection.active).toBe(true);
  expect(introspection.client_id).toBe(clientId);
  await expect(page.getByTestId('introspection')).toContainText(/"active":\s*true/);
  await shot(page, testInfo, 'try-it');
});
