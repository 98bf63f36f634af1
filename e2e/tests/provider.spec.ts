// The realm's OAuth2 provider: token lifetime and signing algorithm (Core), key rotation
// (Signing keys), and the realm's JWKS publishing the new key.

import { expect, test } from '@playwright/test';
import { api, decodeJwt, dialog, jwks, realmNav, realmWithApp, shot, signIn, statusMessage, token } from './support';

const ALGS = ['RS256', 'ES256', 'EdDSA'];

test('change lifetime and algorithm, rotate the signing key, see it in the JWKS', async ({ page }, testInfo) => {
  const { realm, clientId, secret } = await realmWithApp('prov');
  const before = await api.provider(realm);
  const lifetime = before.access_token_lifetime === 1234 ? 4321 : 1234;
  const alg = ALGS.find((a) => a !== before.signing_alg)!;

  await signIn(page, testInfo);
  await page.goto(`/console/realms/${realm}/applications`);
  await realmNav(page).getByRole('link', { name: 'OAuth2 Provider', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/console/realms/${realm}/provider/core$`));
  await expect(realmNav(page).getByRole('link', { name: 'OAuth2 Provider', exact: true })).toHaveAttribute(
    'aria-current',
    'page',
  );
  await expect(page.getByRole('link', { name: 'Core', exact: true })).toHaveAttribute('aria-current', 'page');

  // Core: the current settings are shown; change them.
  const lifetimeInput = page.getByLabel('Access token lifetime (seconds)', { exact: true });
  const algSelect = page.getByLabel('Signing algorithm', { exact: true });
  await expect(lifetimeInput).toHaveValue(String(before.access_token_lifetime));
  await expect(algSelect).toHaveValue(before.signing_alg);
  await shot(page, testInfo, 'core');
  await lifetimeInput.fill(String(lifetime));
  await algSelect.selectOption(alg);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(statusMessage(page, 'Saved.')).toBeVisible();
  await shot(page, testInfo, 'core-saved');

  await page.reload();
  await expect(page.getByLabel('Access token lifetime (seconds)', { exact: true })).toHaveValue(String(lifetime));
  await expect(page.getByLabel('Signing algorithm', { exact: true })).toHaveValue(alg);
  const after = await api.provider(realm);
  expect(after.access_token_lifetime).toBe(lifetime);
  expect(after.signing_alg).toBe(alg);

  // New tokens follow the new settings.
  const t = await token(realm, clientId, secret);
  expect(t.status, JSON.stringify(t.body)).toBe(200);
  expect(t.body.expires_in).toBe(lifetime);
  const { header, claims } = decodeJwt(t.body.access_token);
  expect(header.alg).toBe(alg);
  expect(Number(claims.exp) - Number(claims.iat)).toBe(lifetime);

  // Signing keys: rotate, first cancelled, then confirmed.
  const activeKid = async () => (await api.keys(realm)).find((k) => k.status === 'active')?.kid as string | undefined;
  const oldKid = await activeKid();
  expect(oldKid).toBeDefined();
  await page.getByRole('link', { name: 'Signing keys', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/console/realms/${realm}/provider/keys$`));
  const oldRow = page.getByRole('row').filter({ hasText: oldKid! });
  await expect(oldRow).toBeVisible();
  await expect(oldRow).toContainText(/active/i);
  await expect(oldRow).toContainText(alg);
  await shot(page, testInfo, 'keys');

  await page.getByRole('button', { name: 'Rotate signing key', exact: true }).click();
  await expect(dialog(page)).toBeVisible();
  await shot(page, testInfo, 'rotate-dialog');
  await dialog(page).getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(dialog(page)).toHaveCount(0);
  expect(await activeKid()).toBe(oldKid);

  await page.getByRole('button', { name: 'Rotate signing key', exact: true }).click();
  await dialog(page).getByRole('button', { name: 'Rotate signing key', exact: true }).click();
  await expect(dialog(page)).toHaveCount(0);
  await expect.poll(activeKid).not.toBe(oldKid);
  const newKid = (await activeKid())!;
  const newRow = page.getByRole('row').filter({ hasText: newKid });
  await expect(newRow).toBeVisible();
  await expect(newRow).toContainText(/active/i);
  await expect(page.getByRole('row').filter({ hasText: oldKid! })).toContainText(/retired/i);
  await shot(page, testInfo, 'keys-rotated');

  // The realm's JWKS publishes the new key (and still the retired one, for its tokens).
  const published = (await jwks(realm)).keys.map((k) => k.kid);
  expect(published).toContain(newKid);
  expect(published).toContain(oldKid);
  // Tokens are now signed with the new key.
  const t2 = await token(realm, clientId, secret);
  expect(t2.status).toBe(200);
  expect(decodeJwt(t2.body.access_token).header.kid).toBe(newKid);
});

test('set rate limits and CORS origins on Advanced; a bad value is reported at its field', async ({ page }, testInfo) => {
  const { realm, clientId, secret } = await realmWithApp('limits');
  await signIn(page, testInfo);
  await page.goto(`/console/realms/${realm}/provider/advanced`);
  const perClient = page.getByLabel('Requests per client', { exact: true });
  const failed = page.getByLabel('Failed authentications', { exact: true });
  const origins = page.getByLabel('CORS allowed origins', { exact: true });
  await expect(perClient).toHaveValue('6000');
  await expect(failed).toHaveValue('10');
  await expect(origins).toHaveValue('');

  // The API refuses 0 failed authentications: the error shows at that field, nothing changes.
  await failed.fill('0');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const error = page.locator('#rate_limits_failed_auth-error');
  await expect(error).toBeVisible();
  await expect(failed).toHaveAttribute('aria-invalid', 'true');
  await shot(page, testInfo, 'advanced-error');
  expect((await api.provider(realm)).rate_limits.failed_auth).toBe(10);

  await failed.fill('2');
  await perClient.fill('100');
  await origins.fill('https://app.example.com\nhttps://admin.example.com');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(statusMessage(page, 'Saved.')).toBeVisible();
  await shot(page, testInfo, 'advanced-saved');
  const saved = await api.provider(realm);
  expect(saved.rate_limits).toEqual({ per_client: 100, per_address: 12000, failed_auth: 2 });
  expect(saved.cors_origins).toEqual(['https://admin.example.com', 'https://app.example.com']);

  // The limit is in force: two failures, then even the right secret waits.
  expect((await token(realm, clientId, 'wrong-1')).status).toBe(401);
  expect((await token(realm, clientId, 'wrong-2')).status).toBe(401);
  const limited = await token(realm, clientId, secret);
  expect(limited.status).toBe(429);
});
