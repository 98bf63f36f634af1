// Signing in and out of the console.

import { expect, test } from '@playwright/test';
import { adminPassword, adminUsername, api, getSessionWithCookie, shot, signIn, uniqueName } from './support';

const WRONG = 'Wrong username or password.';

test('an administrator signs in and lands on Realms', async ({ page }, testInfo) => {
  // Without a session, a deep link leads to the login page.
  await page.goto('/console/realms');
  await expect(page).toHaveURL(/\/console\/login/);
  await expect(page.getByRole('heading', { name: 'Sign in to Latchkey' })).toBeVisible();
  await shot(page, testInfo, 'login');

  await signIn(page, testInfo);
  await expect(page.getByRole('button', { name: 'Sign out', exact: true })).toBeVisible();
  // The root realm is listed.
  await expect(page.getByRole('link', { name: 'root', exact: true })).toBeVisible();

  // /console redirects to the realms, and the session survives a reload.
  await page.goto('/console');
  await expect(page).toHaveURL(/\/console\/realms\/?$/);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Realms', exact: true })).toBeVisible();
  await expect(page.getByText(`Signed in as ${adminUsername()}`)).toBeVisible();
});

test('a wrong password, an unknown username and a non-administrator get the same alert', async ({ page }, testInfo) => {
  // An identity of the root realm with a password, but not an administrator.
  const plainUser = uniqueName('plain');
  const plainPassword = 'plain-password-123';
  const created = await api.createUser('root', { username: plainUser, password: plainPassword });
  expect(created.is_admin).toBe(false);

  const attempts: Array<[string, string, string]> = [
    ['wrong-password', adminUsername(), `${adminPassword()}-wrong`],
    ['unknown-username', uniqueName('nobody'), adminPassword()],
    ['non-administrator', plainUser, plainPassword],
  ];
  const alerts: string[] = [];
  for (const [what, username, password] of attempts) {
    await page.goto('/console/login');
    await page.getByLabel('Username', { exact: true }).fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert');
    await expect(alert, what).toHaveText(WRONG);
    alerts.push(((await alert.textContent()) ?? '').trim());
    await shot(page, testInfo, what);
    // Still on the login page, not signed in.
    await expect(page, what).toHaveURL(/\/console\/login/);
    await expect(page.getByText(/Signed in as/), what).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Sign in', exact: true }), what).toBeEnabled();
  }
  // The three failures cannot be told apart.
  expect(new Set(alerts).size).toBe(1);

  // None of them got a session cookie.
  const cookies = await page.context().cookies();
  expect(cookies.filter((c) => c.name === 'latchkey_session')).toEqual([]);
});

test('signing out ends the session', async ({ page, context }, testInfo) => {
  await signIn(page, testInfo);

  const session = (await context.cookies()).find((c) => c.name === 'latchkey_session');
  expect(session, 'the session cookie is set after sign-in').toBeDefined();
  expect(session!.httpOnly).toBe(true);
  // The cookie is a valid session while signed in...
  const before = await getSessionWithCookie(session!);
  expect(before.status).toBe(200);
  expect(before.body.username).toBe(adminUsername());

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/console\/login/);
  await expect(page.getByRole('heading', { name: 'Sign in to Latchkey' })).toBeVisible();
  await shot(page, testInfo, 'signed-out');

  // ...the console no longer lets us in...
  await page.goto('/console/realms');
  await expect(page).toHaveURL(/\/console\/login/);
  await expect(page.getByText(/Signed in as/)).toHaveCount(0);
  await shot(page, testInfo, 'realms-after-sign-out');

  // ...and the old cookie, replayed outside the browser, is refused.
  const after = await getSessionWithCookie(session!);
  expect(after.status).toBe(401);
});
