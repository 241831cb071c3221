/*
 * Sign-in through an upstream OpenID Connect provider: a real one (oidc-provider, in-process), the
 * authorization code flow driven the way a browser does it (redirects followed by hand, cookies kept per
 * origin), and the identity that get-identity then reports.
 */
import http from 'node:http';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { createProgram } from '../cli';
import { loginOptionsFromCli } from '../cli/oidc';
import { renderLoginPage } from '../loginPage';
import { resolveLoginMethods } from '../loginMethods';
import {
  type AccessEmulator,
  type AccessEmulatorOptions,
  startAccessEmulator,
} from '../server';
import { subjectForEmail } from '../tokens';
import {
  type TestOidcAccount,
  type TestOidcProvider,
  type TestOidcProviderOptions,
  startTestOidcProvider,
} from '../__testUtils__/oidcProvider';
import { groupsFromClaim, identityFromClaims } from './claims';
import {
  loadIdentityProvidersFile,
  validateIdentityProvidersConfig,
  validateOidcProvider,
} from './config';
import { PendingLogins } from './pendingLogins';
import { PENDING_LOGIN_COOKIE } from './routes';

const CLIENT_ID = 'cloudflare-access';
const CLIENT_SECRET = 'test-client-secret-0123456789';

const accounts: TestOidcAccount[] = [
  {
    login: 'carol',
    password: 'carol-password',
    email: 'Carol@Example.com',
    email_verified: true,
    name: 'Carol Danvers',
    groups: ['product', 'Platform Admins'],
    extra: { preferred_username: 'carol', department: 'R&D' },
  },
  {
    login: 'noemail',
    password: 'pw',
    name: 'No Email',
  },
  {
    login: 'unverified',
    password: 'pw',
    email: 'unverified@example.com',
    email_verified: false,
  },
  {
    login: 'objects',
    password: 'pw',
    email: 'dave@example.com',
    groups: [
      { id: 'g-1', name: 'engineering', email: 'eng@example.com' },
      { id: 'g-2' },
      42,
      'engineering',
    ],
  },
];

/** A browser: cookies per origin, redirects followed one by one. */
class Browser {
  readonly jar = new Map<string, Map<string, string>>();
  readonly visited: string[] = [];

  cookies(origin: string) {
    let jar = this.jar.get(origin);
    if (!jar) {
      jar = new Map();
      this.jar.set(origin, jar);
    }
    return jar;
  }

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ) {
    const target = new URL(url);
    const jar = this.cookies(target.origin);
    const headers: Record<string, string> = {};
    if (jar.size > 0) {
      headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    this.visited.push(`${init.method ?? 'GET'} ${target.href}`);
    const res = await fetch(target, {
      method: init.method ?? 'GET',
      headers,
      body,
      redirect: 'manual',
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some(a => /^\s*max-age=0\s*$/i.test(a.trim()));
      if (expired || value === '') {
        jar.delete(name);
      } else {
        jar.set(name, value);
      }
    }
    return res;
  }

  /** Follows redirects until a non-redirect answer (or `stopAt` matches a Location). */
  async follow(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
    stopAt?: RegExp,
  ) {
    let res = await this.request(url, init);
    let current = url;
    for (let i = 0; i < 20 && res.status >= 300 && res.status < 400; i++) {
      const next = new URL(res.headers.get('location')!, current).href;
      if (stopAt?.test(next)) {
        return { res, url: current, location: next };
      }
      current = next;
      res = await this.request(current);
    }
    return { res, url: current, location: res.headers.get('location') };
  }
}

function interactionAction(html: string) {
  const match = /action="([^"]+)"/.exec(html);
  if (!match) {
    throw new Error(`no login form in ${html.slice(0, 200)}`);
  }
  return match[1];
}

describe('sign-in through an OpenID Connect provider', () => {
  let idp: TestOidcProvider;
  let emulator: AccessEmulator;
  let logLines: string[];

  async function startIdp(
    extra: Partial<TestOidcProviderOptions> = {},
  ): Promise<TestOidcProvider> {
    return startTestOidcProvider({
      accounts,
      clients: [
        {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUris: [`${emulator.url}/cdn-cgi/access/callback`],
        },
      ],
      extraProfileClaims: ['department'],
      ...extra,
    });
  }

  async function startEmulator(
    issuer: string,
    options: Partial<AccessEmulatorOptions> = {},
    provider: Record<string, unknown> = {},
  ) {
    logLines = [];
    return startAccessEmulator({
      port: 0,
      users: [
        { email: 'alice@example.com', name: 'Alice', groups: ['admins'] },
      ],
      identityProviders: [
        {
          name: 'Test IdP',
          issuer,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          claims: ['department'],
          ...provider,
        },
      ],
      log: line => logLines.push(line),
      ...options,
    });
  }

  /** The whole browser journey up to the emulator's callback answer. */
  async function signInAtIdp(
    browser: Browser,
    login: string,
    password: string,
    redirectUrl = '/catalog?x=1',
  ) {
    const start = await browser.request(
      `${
        emulator.url
      }/cdn-cgi/access/oidc/test-idp/login?redirect_url=${encodeURIComponent(
        redirectUrl,
      )}`,
    );
    expect(start.status).toBe(302);
    const authorizationUrl = new URL(start.headers.get('location')!);
    const page = await browser.follow(authorizationUrl.href);
    expect(page.res.status).toBe(200);
    const html = await page.res.text();
    expect(html).toContain('Username');
    const action = new URL(interactionAction(html), page.url).href;
    const back = await browser.follow(
      action,
      { method: 'POST', form: { login, password } },
      /\/cdn-cgi\/access\/callback/,
    );
    expect(back.location).toMatch(/\/cdn-cgi\/access\/callback\?/);
    const callback = await browser.request(back.location!);
    return { start, authorizationUrl, callbackUrl: back.location!, callback };
  }

  afterEach(async () => {
    await emulator?.close();
    await idp?.close();
  });

  it('signs in with the id token identity, groups shaped as Access returns them', async () => {
    // The emulator needs its URL for the IdP's redirect URI, and the IdP its port for the emulator: start
    // the emulator first, pointing at a port reserved for the IdP (discovery is lazy anyway).
    const port = await freePort();
    emulator = await startEmulator(`http://localhost:${port}`);
    idp = await startIdp({ port });

    const browser = new Browser();
    const loginPage = await browser.request(
      `${emulator.url}/cdn-cgi/access/login?redirect_url=%2Fcatalog`,
    );
    const loginHtml = await loginPage.text();
    expect(loginHtml).toContain('Sign in with Test IdP');
    expect(loginHtml).toContain('action="/cdn-cgi/access/oidc/test-idp/login"');
    expect(loginHtml).toContain('alice@example.com'); // the built-in users stay

    const { start, authorizationUrl, callbackUrl, callback } =
      await signInAtIdp(browser, 'carol', 'carol-password');

    // The authorization request: code flow, PKCE S256, state, nonce, the registered redirect URI.
    const params = authorizationUrl.searchParams;
    expect(authorizationUrl.origin).toBe(idp.issuer);
    expect(params.get('response_type')).toBe('code');
    expect(params.get('client_id')).toBe(CLIENT_ID);
    expect(params.get('redirect_uri')).toBe(
      `${emulator.url}/cdn-cgi/access/callback`,
    );
    expect(params.get('scope')).toBe('openid email profile groups');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toBeTruthy();
    expect(params.get('nonce')).toBeTruthy();
    // Only an opaque id reaches the browser, in an HttpOnly cookie for the callback path.
    const pendingCookie = start.headers
      .getSetCookie()
      .find(c => c.startsWith(`${PENDING_LOGIN_COOKIE}=`))!;
    expect(pendingCookie).toMatch(/HttpOnly/);
    expect(pendingCookie).toMatch(/Path=\/cdn-cgi\/access\/callback/);
    expect(pendingCookie).toMatch(/SameSite=Lax/);
    expect(pendingCookie).not.toContain(params.get('state')!);

    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/catalog?x=1');
    const session = browser.cookies(emulator.url).get('CF_Authorization')!;
    expect(session).toBeTruthy();
    expect(browser.cookies(emulator.url).has(PENDING_LOGIN_COOKIE)).toBe(false);

    const claims = decodeJwt(session);
    expect(claims.email).toBe('carol@example.com');
    expect(claims.sub).toBe(subjectForEmail('carol@example.com'));
    expect(claims.custom).toEqual({ department: 'R&D' });
    expect(await emulator.verifyToken(session)).toBeTruthy();

    const identity = await (
      await browser.request(`${emulator.url}/cdn-cgi/access/get-identity`)
    ).json();
    expect(identity).toMatchObject({
      email: 'carol@example.com',
      name: 'Carol Danvers',
      idp: { type: 'oidc', id: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      custom: { department: 'R&D' },
    });
    expect(identity.groups).toEqual([
      // Names only in the groups claim: no id, as an identity provider that sends names reports it.
      {
        id: '',
        name: 'product',
        email: 'product@example.com',
      },
      {
        id: '',
        name: 'Platform Admins',
        email: 'platform-admins@example.com',
      },
    ]);

    // The id token's signature was checked against the IdP's published keys.
    expect(idp.requests).toContain('GET /jwks');

    // The callback is single use: replaying it fails without a crash.
    const replay = await browser.request(callbackUrl);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('Sign-in expired');

    // Nothing secret in the log: no code, state, client secret or token.
    const code = new URL(callbackUrl).searchParams.get('code')!;
    const log = logLines.join('\n');
    expect(log).toContain('oidc test-idp: signed in carol@example.com');
    for (const secret of [code, CLIENT_SECRET, session, params.get('state')!]) {
      expect(log).not.toContain(secret);
    }
  });

  it("keeps the IdP's idp over the users file's, and reports the person's device", async () => {
    const port = await freePort();
    emulator = await startEmulator(`http://localhost:${port}`, {
      users: [
        {
          email: 'carol@example.com',
          identityProvider: { id: 'file-idp', type: 'google' },
          device: {
            id: 'carol-laptop',
            warp: true,
            posture: [{ id: 'fw', type: 'firewall', success: true }],
          },
        },
      ],
    });
    idp = await startIdp({ port });
    const browser = new Browser();
    const { callback } = await signInAtIdp(browser, 'carol', 'carol-password');
    expect(callback.status).toBe(302);
    const identity = await (
      await browser.request(`${emulator.url}/cdn-cgi/access/get-identity`)
    ).json();
    expect(identity).toMatchObject({
      email: 'carol@example.com',
      idp: { type: 'oidc' },
      is_warp: true,
      device_id: 'carol-laptop',
      devicePosture: { fw: { id: 'fw', type: 'firewall', success: true } },
    });
    // An admin's identity provider wins over the login's.
    emulator.updateDevice('carol@example.com', {
      identityProvider: { id: 'entra', type: 'azureAD' },
    });
    const changed = await (
      await browser.request(`${emulator.url}/cdn-cgi/access/get-identity`)
    ).json();
    expect(changed.idp).toEqual({ id: 'entra', type: 'azureAD' });
  });

  it('starts while the IdP is down, shows an error page, and retries discovery on the next click', async () => {
    const port = await freePort();
    emulator = await startEmulator(`http://localhost:${port}`);
    const browser = new Browser();
    const down = await browser.request(
      `${emulator.url}/cdn-cgi/access/oidc/test-idp/login?redirect_url=%2F`,
    );
    expect(down.status).toBe(502);
    const html = await down.text();
    expect(html).toContain('Identity provider unreachable');
    expect(html).toContain(
      `http://localhost:${port}/.well-known/openid-configuration`,
    );
    expect(html).not.toContain(CLIENT_SECRET);

    idp = await startIdp({ port });
    const { callback } = await signInAtIdp(browser, 'carol', 'carol-password');
    expect(callback.status).toBe(302);
  });

  it('recovers when the IdP restarts with new signing keys: one failed sign-in, then rediscovery', async () => {
    const port = await freePort();
    emulator = await startEmulator(`http://localhost:${port}`);
    idp = await startIdp({ port });
    expect(
      (await signInAtIdp(new Browser(), 'carol', 'carol-password')).callback
        .status,
    ).toBe(302);
    await idp.close();
    idp = await startIdp({ port });
    const first = await signInAtIdp(new Browser(), 'carol', 'carol-password');
    expect(first.callback.status).toBe(502);
    expect(await first.callback.text()).toContain('token exchange');
    const second = await signInAtIdp(new Browser(), 'carol', 'carol-password');
    expect(second.callback.status).toBe(302);
  });

  it('refuses a callback with the wrong state, from another browser, or after cancelling at the IdP', async () => {
    const port = await freePort();
    emulator = await startEmulator(`http://localhost:${port}`);
    idp = await startIdp({ port });

    // Wrong state.
    const browser = new Browser();
    const start = await browser.request(
      `${emulator.url}/cdn-cgi/access/oidc/test-idp/login`,
    );
    expect(start.status).toBe(302);
    const forged = await browser.request(
      `${emulator.url}/cdn-cgi/access/callback?code=abc&state=not-the-state`,
    );
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('state mismatch');
    expect(browser.cookies(emulator.url).has('CF_Authorization')).toBe(false);

    // A callback completed by an attacker's browser is useless in the victim's (login CSRF).
    const attacker = new Browser();
    const { callbackUrl } = await signInAtIdpWithoutCallback(
      attacker,
      'carol',
      'carol-password',
    );
    const victim = new Browser();
    const csrf = await victim.request(callbackUrl);
    expect(csrf.status).toBe(400);
    expect(victim.cookies(emulator.url).has('CF_Authorization')).toBe(false);

    // Cancel at the IdP: access_denied comes back with the right state.
    const canceller = new Browser();
    const begin = await canceller.request(
      `${emulator.url}/cdn-cgi/access/oidc/test-idp/login`,
    );
    const page = await canceller.follow(begin.headers.get('location')!);
    const abort = new URL(
      /href="([^"]+\/abort)"/.exec(await page.res.text())![1],
      page.url,
    ).href;
    const back = await canceller.follow(
      abort,
      {},
      /\/cdn-cgi\/access\/callback/,
    );
    expect(new URL(back.location!).searchParams.get('error')).toBe(
      'access_denied',
    );
    const denied = await canceller.request(back.location!);
    expect(denied.status).toBe(403);
    const deniedHtml = await denied.text();
    expect(deniedHtml).toContain('Access denied');
    expect(deniedHtml).toContain('access_denied');
    expect(logLines.join('\n')).toContain('IdP error access_denied');
  });

  async function signInAtIdpWithoutCallback(
    browser: Browser,
    login: string,
    password: string,
  ) {
    const start = await browser.request(
      `${emulator.url}/cdn-cgi/access/oidc/test-idp/login`,
    );
    const page = await browser.follow(start.headers.get('location')!);
    const action = new URL(interactionAction(await page.res.text()), page.url)
      .href;
    const back = await browser.follow(
      action,
      { method: 'POST', form: { login, password } },
      /\/cdn-cgi\/access\/callback/,
    );
    return { callbackUrl: back.location! };
  }

  it('shows the token exchange failure for a wrong client secret, without the secret', async () => {
    const port = await freePort();
    emulator = await startEmulator(
      `http://localhost:${port}`,
      {},
      { clientSecret: 'wrong-secret-value' },
    );
    idp = await startIdp({ port });
    const { callback } = await signInAtIdp(
      new Browser(),
      'carol',
      'carol-password',
    );
    expect(callback.status).toBe(502);
    const html = await callback.text();
    expect(html).toContain('Sign-in failed at the token exchange');
    expect(html).toContain('invalid_client');
    expect(html).not.toContain('wrong-secret-value');
    expect(logLines.join('\n')).not.toContain('wrong-secret-value');
  });

  it('refuses an account without an email or with email_verified false', async () => {
    const port = await freePort();
    emulator = await startEmulator(`http://localhost:${port}`);
    idp = await startIdp({ port });
    const noEmail = await signInAtIdp(new Browser(), 'noemail', 'pw');
    expect(noEmail.callback.status).toBe(403);
    expect(await noEmail.callback.text()).toContain('No email address');
    const unverified = await signInAtIdp(new Browser(), 'unverified', 'pw');
    expect(unverified.callback.status).toBe(403);
    expect(await unverified.callback.text()).toContain('not verified');
  });

  it('keeps group objects and drops what is not a group', async () => {
    const port = await freePort();
    emulator = await startEmulator(`http://localhost:${port}`);
    idp = await startIdp({ port });
    const browser = new Browser();
    const { callback } = await signInAtIdp(browser, 'objects', 'pw');
    expect(callback.status).toBe(302);
    const identity = await (
      await browser.request(`${emulator.url}/cdn-cgi/access/get-identity`)
    ).json();
    expect(identity.name).toBe('dave');
    expect(identity.groups).toEqual([
      { id: 'g-1', name: 'engineering', email: 'eng@example.com' },
      { id: 'g-2', name: 'g-2', email: 'g-2@example.com' },
    ]);
  });

  it('reads the claims from userinfo when the IdP keeps them out of the id token', async () => {
    const port = await freePort();
    emulator = await startEmulator(
      `http://localhost:${port}`,
      {},
      { userinfo: true },
    );
    idp = await startIdp({ port, conformIdTokenClaims: true });
    const browser = new Browser();
    const { callback } = await signInAtIdp(browser, 'carol', 'carol-password');
    expect(callback.status).toBe(302);
    const identity = await (
      await browser.request(`${emulator.url}/cdn-cgi/access/get-identity`)
    ).json();
    expect(identity.email).toBe('carol@example.com');
    expect(identity.groups.map((g: { name: string }) => g.name)).toEqual([
      'product',
      'Platform Admins',
    ]);
    expect(idp.requests).toContain('GET /me');
  });

  it('without userinfo, an id token without email is refused with a clear message', async () => {
    const port = await freePort();
    emulator = await startEmulator(`http://localhost:${port}`);
    idp = await startIdp({ port, conformIdTokenClaims: true });
    const { callback } = await signInAtIdp(
      new Browser(),
      'carol',
      'carol-password',
    );
    expect(callback.status).toBe(403);
    expect(await callback.text()).toContain('No email address');
  });

  it('with oneTimePin off, only the IdP signs in; instantAuth skips the login page', async () => {
    const port = await freePort();
    emulator = await startEmulator(`http://localhost:${port}`, {
      oneTimePin: false,
      instantAuth: true,
    });
    idp = await startIdp({ port });
    const browser = new Browser();
    const edge = await browser.request(`${emulator.url}/catalog`);
    expect(edge.status).toBe(302);
    const login = await browser.request(
      new URL(edge.headers.get('location')!, emulator.url).href,
    );
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe(
      '/cdn-cgi/access/oidc/test-idp/login?redirect_url=%2Fcatalog',
    );
    const post = await browser.request(`${emulator.url}/cdn-cgi/access/login`, {
      method: 'POST',
      form: { email: 'alice@example.com', redirect_url: '/' },
    });
    expect(post.status).toBe(403);
    expect(browser.cookies(emulator.url).has('CF_Authorization')).toBe(false);
  });

  it('without instantAuth the login page shows only the IdP buttons', async () => {
    emulator = await startEmulator('http://localhost:1', { oneTimePin: false });
    const res = await fetch(`${emulator.url}/cdn-cgi/access/login`);
    const html = await res.text();
    expect(html).toContain('Sign in with Test IdP');
    expect(html).not.toContain('type="email"');
    expect(html).not.toContain('alice@example.com');
  });

  it('answers 404 for an unknown provider id', async () => {
    emulator = await startEmulator('http://localhost:1');
    const res = await fetch(
      `${emulator.url}/cdn-cgi/access/oidc/nope/login?redirect_url=%2F`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(404);
    expect(emulator.identityProviders).toEqual([
      expect.objectContaining({
        id: 'test-idp',
        name: 'Test IdP',
        redirectUri: `${emulator.url}/cdn-cgi/access/callback`,
      }),
    ]);
    expect(JSON.stringify(emulator.identityProviders)).not.toContain(
      CLIENT_SECRET,
    );
  });
});

/**
 * A port that is free now, for a server started a moment later. Taken below Linux's ephemeral range
 * (32768 and up), where port 0 and outgoing connections of tests running alongside take theirs, so it is
 * not handed out again in between.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const server = http.createServer();
    const bound = await new Promise<boolean>(resolve => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) {
      await new Promise<void>(resolve => server.close(() => resolve()));
      return port;
    }
  }
}

describe('identity provider configuration', () => {
  const base = {
    name: 'PocketID',
    issuer: 'https://id.example.com',
    clientId: 'abc',
    clientSecret: 'shh-very-secret',
  };

  it('fills the defaults', () => {
    const config = validateOidcProvider('p', base);
    expect(config).toMatchObject({
      id: 'pocketid',
      name: 'PocketID',
      clientId: 'abc',
      tokenEndpointAuthMethod: 'client_secret_basic',
      scopes: ['openid', 'email', 'profile', 'groups'],
      groupsClaim: 'groups',
      pkce: true,
      userinfo: false,
      requireVerifiedEmail: true,
    });
    expect(config.issuer.href).toBe('https://id.example.com/');
  });

  it('reads the secret from an environment variable and never echoes it', () => {
    const { clientSecret: _, ...rest } = base;
    const config = validateOidcProvider(
      'p',
      { ...rest, clientSecretEnv: 'POCKETID_SECRET' },
      { POCKETID_SECRET: 'from-env' },
    );
    expect(config.clientSecret).toBe('from-env');
    expect(() =>
      validateOidcProvider('p', { ...rest, clientSecretEnv: 'MISSING' }, {}),
    ).toThrow('p.clientSecretEnv: environment variable MISSING is not set');
  });

  it.each([
    [{ ...base, issuer: 'ftp://x' }, 'p.issuer: must be an http(s) URL'],
    [{ ...base, issuer: 'not a url' }, 'p.issuer: not a URL'],
    [{ ...base, clientId: '' }, 'p.clientId: required'],
    [{ ...base, scopes: 'email profile' }, 'p.scopes: must include "openid"'],
    [{ ...base, scope: 'openid' }, 'p: unknown field "scope"'],
    [{ ...base, pkce: 'yes' }, 'p.pkce: expected true or false'],
    [
      { ...base, clientSecret: undefined },
      'p: a confidential client needs clientSecret or clientSecretEnv',
    ],
    [
      { ...base, clientSecretEnv: 'X' },
      'p: give either clientSecret or clientSecretEnv, not both',
    ],
    [
      { ...base, tokenEndpointAuthMethod: 'private_key_jwt' },
      'p.tokenEndpointAuthMethod: expected one of',
    ],
    [{ ...base, id: 'Bad Id' }, 'p.id: expected lower-case letters'],
    [{ ...base, name: '!!!' }, 'p.id: expected lower-case letters'],
    [
      { ...base, clientSecret: 12345 },
      'p.clientSecret: expected a non-empty string',
    ],
    [
      { ...base, scopes: [1] },
      'p.scopes[0]: expected a list of strings (or one space-separated string), got 1',
    ],
    [
      { ...base, issuer: 'https://id.example.com/?x=1' },
      'p.issuer: no query, fragment or credentials allowed, got "https://id.example.com/?x=1"',
    ],
    ['just a string', 'p: expected a mapping with name, issuer and clientId'],
  ])('rejects %j', (value, message) => {
    let error: Error | undefined;
    try {
      validateOidcProvider('p', value, {});
    } catch (e: any) {
      error = e;
    }
    expect(error?.message).toContain(message);
    expect(error?.message).not.toContain('shh-very-secret');
    expect(error?.message).not.toContain('12345');
  });

  it('loads a YAML file and rejects duplicate ids and unknown top-level fields', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfaccess-idp-'));
    const file = path.join(dir, 'idp.yaml');
    await fs.writeFile(
      file,
      `oneTimePin: false
instantAuth: true
identityProviders:
  - name: Authentik
    issuer: https://auth.example.com/application/o/cloudflare/
    clientId: authentik-client
    clientSecretEnv: AUTHENTIK_SECRET
    scopes: [openid, email, profile]
`,
    );
    const config = await loadIdentityProvidersFile(file, {
      AUTHENTIK_SECRET: 's',
    });
    expect(config.oneTimePin).toBe(false);
    expect(config.instantAuth).toBe(true);
    expect(config.identityProviders[0]).toMatchObject({
      id: 'authentik',
      scopes: ['openid', 'email', 'profile'],
    });
    expect(() =>
      validateIdentityProvidersConfig(
        { identityProviders: [base, { ...base, issuer: 'https://b' }] },
        'f',
      ),
    ).toThrow('f: identityProviders[1].id: duplicate "pocketid"');
    expect(() => validateIdentityProvidersConfig({ users: [] }, 'f')).toThrow(
      'f: unknown field "users"',
    );
    expect(() =>
      validateIdentityProvidersConfig(
        { identityProviders: [{ ...base, pkce: 'no' }] },
        'f',
      ),
    ).toThrow('f: identityProviders[0].pkce: expected true or false, got "no"');
    expect(() =>
      validateIdentityProvidersConfig({ oneTimePin: 'off' }, 'f'),
    ).toThrow('f: oneTimePin: expected true or false, got "off"');
    expect(() =>
      validateIdentityProvidersConfig({ identityProviders: {} }, 'f'),
    ).toThrow('f: identityProviders: expected a list, got {}');
    await expect(resolveLoginMethods({ oneTimePin: false })).rejects.toThrow(
      'nobody could sign in',
    );
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('maps CLI flags to one provider', async () => {
    const opts = createProgram()
      .parse(
        [
          '--oidc-issuer',
          'http://localhost:7300',
          '--oidc-client-id',
          'cid',
          '--oidc-client-secret-env',
          'MY_SECRET',
          '--oidc-name',
          'PocketID',
          '--oidc-scopes',
          'openid email groups',
          '--oidc-groups-claim',
          'roles',
        ],
        { from: 'user' },
      )
      .opts();
    expect(opts).toMatchObject({
      oidcIssuer: 'http://localhost:7300',
      oidcClientId: 'cid',
      oidcClientSecretEnv: 'MY_SECRET',
      oidcName: 'PocketID',
      oidcScopes: 'openid email groups',
      oidcGroupsClaim: 'roles',
    });
  });
});

describe('CLI login options', () => {
  const parse = (args: string[]) => {
    const program = createProgram().parse(args, { from: 'user' });
    return loginOptionsFromCli(program.opts(), name =>
      program.getOptionValueSource(name),
    );
  };

  it('passes nothing by default, so the file decides', () => {
    expect(parse([])).toEqual({ identityProvidersFile: undefined });
  });

  it('builds one provider from the flags and the login method switches', () => {
    expect(
      parse([
        '--oidc-issuer',
        'http://localhost:7300',
        '--oidc-client-id',
        'cid',
        '--oidc-client-secret-env',
        'S',
        '--no-oidc-pkce',
        '--no-one-time-pin',
        '--instant-auth',
      ]),
    ).toEqual({
      identityProvidersFile: undefined,
      identityProviders: [
        {
          name: 'OpenID Connect',
          issuer: 'http://localhost:7300',
          clientId: 'cid',
          clientSecretEnv: 'S',
          pkce: false,
          userinfo: false,
        },
      ],
      oneTimePin: false,
      instantAuth: true,
    });
  });

  it('refuses --oidc-* flags without --oidc-issuer', () => {
    expect(() => parse(['--oidc-client-id', 'x'])).toThrow(
      '--oidc-* flags need --oidc-issuer (got --oidc-client-id)',
    );
  });
});

describe('login page', () => {
  it('escapes provider names and keeps the redirect', () => {
    const html = renderLoginPage({
      users: [],
      redirectUrl: '/a?b=1&c=2',
      providers: [{ id: 'x', name: '<img src=x onerror=alert(1)>' }],
    });
    expect(html).toContain('Sign in with &lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
    expect(html).toContain('value="/a?b=1&amp;c=2"');
  });
});

describe('claims to identity', () => {
  const config = validateOidcProvider('p', {
    name: 'X',
    issuer: 'https://x.example.com',
    clientId: 'c',
    clientSecret: 's',
    groupsClaim: 'realm_access.roles',
  });

  it('reads a dotted groups claim and builds a name from given/family names', () => {
    expect(
      identityFromClaims(config, {
        sub: '1',
        email: 'A@B.example',
        given_name: 'Ada',
        family_name: 'Lovelace',
        realm_access: { roles: ['r1', 'r2'] },
      }),
    ).toEqual({
      email: 'a@b.example',
      name: 'Ada Lovelace',
      groups: ['r1', 'r2'],
    });
  });

  it('accepts a single group name and ignores junk', () => {
    expect(groupsFromClaim('admins')).toEqual(['admins']);
    expect(groupsFromClaim({ not: 'a list' })).toEqual([]);
    expect(groupsFromClaim([' a ', '', null, ['x'], 'a'])).toEqual(['a']);
  });

  it('pending logins are single use and expire', () => {
    let now = 0;
    const pending = new PendingLogins(() => now);
    const id = pending.add({
      providerId: 'p',
      state: 's',
      nonce: 'n',
      redirectUrl: '/',
    });
    expect(pending.take(id)?.state).toBe('s');
    expect(pending.take(id)).toBeUndefined();
    const late = pending.add({
      providerId: 'p',
      state: 's',
      nonce: 'n',
      redirectUrl: '/',
    });
    now += 11 * 60_000;
    expect(pending.take(late)).toBeUndefined();
    expect(pending.take(undefined)).toBeUndefined();
  });
});
