// Shared helpers of the browser tests: the environment `cargo xtask e2e` hands over, signing in,
// the admin API (as the operator client, for preconditions and for checking what the console
// did), OAuth2 calls made outside the browser, unique names and screenshots.

import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';

// ---------------------------------------------------------------------------------------------
// Environment

/** A required environment variable, or a clear error naming it. */
export function env(name: string): string {
  const v = process.env[name];
  if (!v) {
    throw new Error(
      `${name} is not set. The browser tests run against a server started by \`cargo xtask e2e\`, ` +
        'which sets LATCHKEY_E2E_URL, LATCHKEY_E2E_ADMIN_USERNAME, LATCHKEY_E2E_ADMIN_PASSWORD, ' +
        'LATCHKEY_E2E_OPERATOR_ID and LATCHKEY_E2E_OPERATOR_SECRET.',
    );
  }
  return v;
}

/** The server under test, without a trailing slash (e.g. http://127.0.0.1:8092). */
export const baseURL = (): string => env('LATCHKEY_E2E_URL').replace(/\/+$/, '');
/** The root-realm administrator identity. */
export const adminUsername = (): string => env('LATCHKEY_E2E_ADMIN_USERNAME');
export const adminPassword = (): string => env('LATCHKEY_E2E_ADMIN_PASSWORD');
/** The root-realm operator client (client credentials, scope admin). */
export const operatorId = (): string => env('LATCHKEY_E2E_OPERATOR_ID');
export const operatorSecret = (): string => env('LATCHKEY_E2E_OPERATOR_SECRET');

/** A realm's issuer, as the server names it in its tokens. */
export const issuer = (realm: string): string => `${baseURL()}/oauth2/realms/${realm}`;

// ---------------------------------------------------------------------------------------------
// Names

let counter = 0;

/**
 * A name no other test (nor an earlier run on the same database) uses: lowercase letters,
 * digits and hyphens, valid as a realm name, a username and a client id.
 */
export function uniqueName(prefix: string): string {
  counter += 1;
  const stamp = Date.now().toString(36);
  const rand = Math.random().toString(36).slice(2, 7);
  return `${prefix}-${stamp}${counter.toString(36)}${rand}`.toLowerCase().slice(0, 63);
}

// ---------------------------------------------------------------------------------------------
// Screenshots

const shotCounts = new WeakMap<TestInfo, number>();

/**
 * A full-page screenshot of the page as it is now, saved among the test's artifacts
 * (`test-results/<test>/NN-name.png`) and attached to the HTML report.
 */
export async function shot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const n = (shotCounts.get(testInfo) ?? 0) + 1;
  shotCounts.set(testInfo, n);
  const file = testInfo.outputPath(`${String(n).padStart(2, '0')}-${name.replace(/[^A-Za-z0-9_-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

// ---------------------------------------------------------------------------------------------
// The console

/** Signs the administrator in through the login page; ends on the Realms page. */
export async function signIn(page: Page, testInfo?: TestInfo): Promise<void> {
  await page.goto('/console/login');
  await expect(page.getByRole('heading', { name: 'Sign in to Latchkey' })).toBeVisible();
  await page.getByLabel('Username', { exact: true }).fill(adminUsername());
  await page.getByLabel('Password', { exact: true }).fill(adminPassword());
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/console\/realms\/?$/);
  await expect(page.getByRole('heading', { name: 'Realms', exact: true })).toBeVisible();
  await expect(page.getByText(`Signed in as ${adminUsername()}`)).toBeVisible();
  if (testInfo) await shot(page, testInfo, 'signed-in');
}

/** The role=status message a successful save shows ("Saved.", "Realm created.", …). */
export function statusMessage(page: Page, text: string | RegExp): Locator {
  return page.getByRole('status').filter({ hasText: text });
}

/** The realm navigation landmark (Applications, Identities, OAuth2 Provider). */
export function realmNav(page: Page): Locator {
  return page.getByRole('navigation', { name: 'Realm' });
}

/** The values of the selected options of a `<select>` (multiple or not). */
export async function selectedValues(select: Locator): Promise<string[]> {
  return select.evaluate((el) => Array.from((el as HTMLSelectElement).selectedOptions).map((o) => o.value));
}

/** The confirm dialog currently open. */
export function dialog(page: Page): Locator {
  return page.getByRole('dialog');
}

/** Reads a `<pre>` block showing JSON (by test id) and parses it. */
export async function jsonBlock(page: Page, testId: string): Promise<Record<string, unknown>> {
  const block = page.getByTestId(testId);
  await expect(block).toBeVisible();
  await expect(block).toHaveText(/\{[\s\S]*\}/);
  const text = (await block.textContent()) ?? '';
  try {
    return JSON.parse(text.trim()) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`the ${testId} block does not hold JSON: ${text}`);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP outside the browser

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  let body: any = text;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, body, headers: res.headers };
}

/** Form-urlencodes one value (RFC 6749 §2.3.1 asks this of client_secret_basic's id and secret). */
function formEncode(v: string): string {
  return new URLSearchParams({ v }).toString().slice(2);
}

/** `Authorization: Basic …` for client_secret_basic. */
export function basic(clientId: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64');
}

/** Client credentials grant at a realm's token endpoint, with client_secret_basic. */
export async function token(realm: string, clientId: string, secret: string, scope?: string): Promise<Reply> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope) form.set('scope', scope);
  const res = await fetch(`${baseURL()}/oauth2/realms/${realm}/access_token`, {
    method: 'POST',
    headers: { Authorization: basic(clientId, secret), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  return reply(res);
}

/** Introspects a token at a realm's introspection endpoint, authenticating as a client of it. */
export async function introspect(realm: string, clientId: string, secret: string, accessToken: string): Promise<Reply> {
  const res = await fetch(`${baseURL()}/oauth2/realms/${realm}/introspect`, {
    method: 'POST',
    headers: { Authorization: basic(clientId, secret), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: accessToken }).toString(),
  });
  return reply(res);
}

/** The realm's JWKS. */
export async function jwks(realm: string): Promise<{ keys: Array<Record<string, unknown>> }> {
  const res = await fetch(`${baseURL()}/oauth2/realms/${realm}/connect/jwk_uri`);
  expect(res.status, 'GET jwk_uri').toBe(200);
  return (await res.json()) as { keys: Array<Record<string, unknown>> };
}

/** The header and claims of a JWT, unverified. */
export function decodeJwt(jwt: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const parts = jwt.split('.');
  expect(parts.length, 'a JWT has three parts').toBe(3);
  const part = (p: string) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: part(parts[0]), claims: part(parts[1]) };
}

/** GET /admin/v1/session with a session cookie replayed (no browser). */
export async function getSessionWithCookie(cookie: { name: string; value: string }): Promise<Reply> {
  const res = await fetch(`${baseURL()}/admin/v1/session`, { headers: { Cookie: `${cookie.name}=${cookie.value}` } });
  return reply(res);
}

// ---------------------------------------------------------------------------------------------
// The admin API, as the operator client

let operatorToken: { value: string; until: number } | undefined;

async function adminToken(): Promise<string> {
  if (operatorToken && operatorToken.until > Date.now()) return operatorToken.value;
  const r = await token('root', operatorId(), operatorSecret(), 'admin');
  if (r.status !== 200) {
    throw new Error(`the operator client cannot get an admin token: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const lifetime = Number(r.body.expires_in ?? 60);
  operatorToken = { value: r.body.access_token, until: Date.now() + Math.max(lifetime - 30, 5) * 1000 };
  return operatorToken.value;
}

/** The admin REST API under /admin/v1, authenticated by the operator's bearer token. */
export const api = {
  async call(method: string, path: string, body?: unknown): Promise<Reply> {
    const headers: Record<string, string> = { Authorization: `Bearer ${await adminToken()}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${baseURL()}/admin/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return reply(res);
  },

  /** Like call, but fails the test unless the status is the expected one. */
  async must(status: number, method: string, path: string, body?: unknown): Promise<any> {
    const r = await api.call(method, path, body);
    expect(r.status, `${method} /admin/v1${path} answered ${JSON.stringify(r.body)}`).toBe(status);
    return r.body;
  },

  createRealm(name: string, displayName?: string): Promise<any> {
    return api.must(201, 'POST', '/realms', { name, display_name: displayName ?? `Realm ${name}` });
  },
  getRealm(name: string): Promise<Reply> {
    return api.call('GET', `/realms/${name}`);
  },

  createUser(realm: string, user: Record<string, unknown>): Promise<any> {
    return api.must(201, 'POST', `/realms/${realm}/users`, user);
  },
  getUser(realm: string, username: string): Promise<Reply> {
    return api.call('GET', `/realms/${realm}/users/${encodeURIComponent(username)}`);
  },
  async listUsers(realm: string): Promise<any[]> {
    return (await api.must(200, 'GET', `/realms/${realm}/users?per_page=200`)).items;
  },

  createApp(realm: string, app: Record<string, unknown>): Promise<any> {
    return api.must(201, 'POST', `/realms/${realm}/applications`, app);
  },
  getApp(realm: string, clientId: string): Promise<Reply> {
    return api.call('GET', `/realms/${realm}/applications/${encodeURIComponent(clientId)}`);
  },
  async listApps(realm: string): Promise<any[]> {
    return (await api.must(200, 'GET', `/realms/${realm}/applications?per_page=200`)).items;
  },

  provider(realm: string): Promise<any> {
    return api.must(200, 'GET', `/realms/${realm}/oauth2-provider`);
  },
  async keys(realm: string): Promise<any[]> {
    return (await api.must(200, 'GET', `/realms/${realm}/keys`)).items;
  },
};

/**
 * A fresh realm with a confidential (web) application able to use client credentials, made
 * through the API, for tests whose subject is not the registration itself.
 */
export async function realmWithApp(prefix: string): Promise<{ realm: string; clientId: string; secret: string }> {
  const realm = uniqueName(prefix);
  await api.createRealm(realm);
  const clientId = uniqueName('app');
  const secret = `secret-${uniqueName('s')}`;
  await api.createApp(realm, {
    client_id: clientId,
    client_secret: secret,
    client_name: `App ${clientId}`,
    application_type: 'web',
    grant_types: ['client_credentials'],
    allowed_scopes: ['read', 'write'],
    default_scopes: ['read'],
  });
  return { realm, clientId, secret };
}
