// Every input of every page has a label, and every page says where it is (a heading, and the
// realm navigation marking the current section).

import { expect, test, type Page } from '@playwright/test';
import { api, realmNav, realmWithApp, shot, signIn, uniqueName } from './support';

/** The inputs, selects and textareas of the page that no label names. */
async function unlabelled(page: Page): Promise<string[]> {
  return page.$$eval('input, select, textarea', (els) =>
    els
      .filter((e) => (e as HTMLInputElement).type !== 'hidden')
      .filter((e) => {
        const labels = (e as HTMLInputElement).labels;
        return !(labels && labels.length > 0) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby');
      })
      .map((e) => e.outerHTML),
  );
}

test('every input on every page has a label', async ({ page }, testInfo) => {
  const { realm, clientId } = await realmWithApp('labels');
  const username = uniqueName('owner');
  await api.must(201, 'POST', `/realms/${realm}/users`, { username, password: 'a-long-password-1' });
  await signIn(page);

  const pages: Array<[string, string, string | null]> = [
    ['/console/realms', 'Realms', null],
    [`/console/realms/${realm}/applications`, 'Applications', 'Applications'],
    [`/console/realms/${realm}/applications/${clientId}/general`, `App ${clientId}`, 'Applications'],
    [`/console/realms/${realm}/applications/${clientId}/sign-on`, `App ${clientId}`, 'Applications'],
    [`/console/realms/${realm}/applications/${clientId}/credentials`, `App ${clientId}`, 'Applications'],
    [`/console/realms/${realm}/applications/${clientId}/try`, `App ${clientId}`, 'Applications'],
    [`/console/realms/${realm}/provider/core`, 'OAuth2 Provider', 'OAuth2 Provider'],
    [`/console/realms/${realm}/provider/advanced`, 'OAuth2 Provider', 'OAuth2 Provider'],
    [`/console/realms/${realm}/provider/keys`, 'OAuth2 Provider', 'OAuth2 Provider'],
    [`/console/realms/${realm}/identities`, 'Identities', 'Identities'],
    [`/console/realms/${realm}/identities/new`, 'New identity', 'Identities'],
    [`/console/realms/${realm}/identities/${username}`, username, 'Identities'],
    [`/console/realms/${realm}/audit`, 'Audit', 'Audit'],
  ];
  for (const [url, heading, section] of pages) {
    await page.goto(url);
    await expect(page.getByRole('heading', { name: heading, exact: true }).first()).toBeVisible();
    await expect(page.getByText('Loading…')).toHaveCount(0);
    if (section) {
      await expect(realmNav(page).getByRole('link', { name: section })).toHaveAttribute('aria-current', 'page');
    }
    expect(await unlabelled(page), `unlabelled inputs on ${url}`).toEqual([]);
  }

  // The forms that only open on request.
  await page.goto('/console/realms');
  await page.getByRole('button', { name: '+ New realm' }).click();
  await expect(page.getByLabel('Name', { exact: true })).toBeVisible();
  expect(await unlabelled(page), 'the new realm form').toEqual([]);
  await page.goto(`/console/realms/${realm}/applications/new`);
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Application details' })).toBeVisible();
  expect(await unlabelled(page), 'the wizard details').toEqual([]);
  await shot(page, testInfo, 'wizard-details');
});
