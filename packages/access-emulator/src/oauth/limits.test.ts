import express from 'express';
import request from 'supertest';
import type { EmulatorContext } from '../context';
import { createHostCheck } from '../hosts';
import { KeyStore } from '../keys';
import { TokenIssuer } from '../tokens';
import {
  AUTHORIZATION_PATH,
  REDIRECT_URI,
  REGISTRATION_PATH,
  REVOCATION_PATH,
  TOKEN_PATH,
  pkcePair,
} from '../__testUtils__/oauthClient';
import { AuthorizationCodes, CODE_LIFETIME_MS } from './authorizationCodes';
import { type Grant, GrantStore, RETIRED_KEPT } from './grants';
import { ManagedOAuth } from './managedOAuth';
import { createOAuthRoutes } from './routes';
import { resolveManagedOAuth } from './settings';

const PUBLIC_ORIGIN = 'http://localhost:7999';
const HOST = new URL(PUBLIC_ORIGIN).host;

/** The OAuth endpoints of one application with small caps, built by hand (the caps are internal). */
async function smallApplication(limits: {
  clients?: number;
  grants?: number;
  codes?: number;
}) {
  const keys = await KeyStore.open();
  const tokens = new TokenIssuer(keys, {
    issuer: PUBLIC_ORIGIN,
    audience: ['aud'],
    sessionDurationSeconds: 3600,
  });
  const oauth = new ManagedOAuth({
    settings: resolveManagedOAuth(true)!,
    keys,
    issuer: PUBLIC_ORIGIN,
    audience: ['aud'],
    signIn: (email, _ip, expiresInSeconds) =>
      tokens.mintUserToken({ email, country: 'XX' }, expiresInSeconds),
    verifyApplicationToken: token => tokens.verify(token),
    limits,
  });
  const ctx = {
    publicOrigin: PUBLIC_ORIGIN,
    allowedHost: createHostCheck(PUBLIC_ORIGIN),
    tokens,
    managedOAuth: oauth,
  } as Partial<EmulatorContext> as EmulatorContext;
  const app = express().use(createOAuthRoutes(ctx));
  const { token: session } = await tokens.mintUserToken({
    email: 'alice@example.com',
    country: 'XX',
  });

  const register = () =>
    request(app)
      .post(REGISTRATION_PATH)
      .set('Host', HOST)
      .send({
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
      });
  const authorize = (clientId: string, challenge: string) =>
    request(app)
      .get(AUTHORIZATION_PATH)
      .set('Host', HOST)
      .set('Cookie', `CF_Authorization=${session}`)
      .query({
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: `${PUBLIC_ORIGIN}/api/mcp`,
        state: 'st',
      });
  const token = (form: Record<string, string>) =>
    request(app).post(TOKEN_PATH).set('Host', HOST).type('form').send(form);

  /** A registered client with a code that is still to be exchanged. */
  async function clientWithCode() {
    const res = await register();
    expect(res.status).toBe(201);
    const clientId: string = res.body.client_id;
    const { verifier, challenge } = pkcePair();
    const authorized = await authorize(clientId, challenge);
    const code = new URL(authorized.headers.location).searchParams.get('code');
    expect(code).toBeTruthy();
    const exchange = () =>
      token({
        grant_type: 'authorization_code',
        code: code!,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        client_id: clientId,
      });
    return { clientId, exchange };
  }

  /** A registered client with a live grant. */
  async function clientWithGrant() {
    const { clientId, exchange } = await clientWithCode();
    const res = await exchange();
    expect(res.status).toBe(200);
    let refreshToken: string = res.body.refresh_token;
    const refresh = async () => {
      const refreshed = await token({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: clientId,
      });
      refreshToken = refreshed.body.refresh_token ?? refreshToken;
      return refreshed;
    };
    return { clientId, refresh, refreshToken: () => refreshToken };
  }

  return {
    app,
    oauth,
    register,
    authorize,
    token,
    clientWithCode,
    clientWithGrant,
  };
}

const unavailable = (description: string) => ({
  error: 'temporarily_unavailable',
  error_description: description,
});

describe('the caps of the Managed OAuth stores', () => {
  it('never forgets a client with a live grant for anonymous registrations; refuses them when every client is in use', async () => {
    const small = await smallApplication({ clients: 3 });
    const agent = await small.clientWithGrant();
    // A flood of anonymous registrations: each one makes room by forgetting an earlier unused one.
    for (let i = 0; i < 10; i++) {
      expect((await small.register()).status).toBe(201);
    }
    expect(small.oauth.clients.size).toBe(3);
    const refreshed = await agent.refresh();
    expect(refreshed.status).toBe(200);
    // A second client with a pending code, a third with a grant: all three in use.
    await small.clientWithCode();
    await small.clientWithGrant();
    const refused = await small.register();
    expect(refused.status).toBe(503);
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(refused.body).toEqual(unavailable('too many registered clients'));
    expect((await agent.refresh()).status).toBe(200);
  });

  it('refuses a code exchange with 503 while every grant is alive, without spending the code', async () => {
    const small = await smallApplication({ grants: 1 });
    const first = await small.clientWithGrant();
    const second = await small.clientWithCode();
    const refused = await second.exchange();
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual(unavailable('too many live grants'));
    // The first grant still works; once it is revoked it makes room, and the same code goes through.
    expect((await first.refresh()).status).toBe(200);
    const revoke = await request(small.app)
      .post(REVOCATION_PATH)
      .set('Host', HOST)
      .type('form')
      .send({ token: first.refreshToken() });
    expect(revoke.status).toBe(200);
    const accepted = await second.exchange();
    expect(accepted.status).toBe(200);
    expect(small.oauth.grants.size).toBe(1);
  });

  it('sends temporarily_unavailable back to the client while every code is pending; used codes make room', async () => {
    const small = await smallApplication({ codes: 1 });
    const first = await small.clientWithCode();
    const { client_id: clientId } = (await small.register()).body;
    const refused = await small.authorize(clientId, pkcePair().challenge);
    expect(refused.status).toBe(302);
    const callback = new URL(refused.headers.location);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(Object.fromEntries(callback.searchParams)).toEqual({
      ...unavailable('too many pending authorization codes'),
      state: 'st',
      iss: PUBLIC_ORIGIN,
    });
    expect((await first.exchange()).status).toBe(200);
    const issued = await small.authorize(clientId, pkcePair().challenge);
    expect(new URL(issued.headers.location).searchParams.get('code')).toMatch(
      /^[A-Za-z0-9_-]{43}$/,
    );
  });
});

describe('GrantStore', () => {
  const fields = (clientId: string, expiresAt: number) =>
    ({
      email: 'alice@example.com',
      clientId,
      resource: `${PUBLIC_ORIGIN}/api/mcp`,
      expiresAt,
      applicationToken: {} as Grant['applicationToken'],
    } satisfies Omit<Grant, 'id' | 'revoked'>);

  it('forgets ended and revoked grants to make room, never a live one', () => {
    const now = 1_000_000;
    const store = new GrantStore({ maxGrants: 2 });
    const live = store.create(fields('a', now + 60_000), now)!.grant;
    const ended = store.create(fields('b', now + 1), now)!.grant;
    const later = now + 10;
    expect(store.hasLiveGrant('b', later)).toBe(false);
    const another = store.create(fields('c', later + 60_000), later)!.grant;
    expect(store.get(ended.id)).toBeUndefined();
    expect(store.create(fields('d', later + 60_000), later)).toBeUndefined();
    expect([store.get(live.id), store.get(another.id)]).toEqual([
      live,
      another,
    ]);
    expect(store.hasLiveGrant('a', later)).toBe(true);
    store.revoke(live);
    expect(store.hasLiveGrant('a', later)).toBe(false);
    expect(store.create(fields('d', later + 60_000), later)).toBeDefined();
    expect(store.get(live.id)).toBeUndefined();
    expect(store.size).toBe(2);
  });

  it(`keeps the live refresh token and the last ${RETIRED_KEPT} retired ones of a grant, however often it rotates`, () => {
    const store = new GrantStore();
    const { grant, refreshToken } = store.create(
      fields('a', Date.now() + 60_000),
      Date.now(),
    )!;
    const issued = [refreshToken];
    for (let i = 0; i < 1000; i++) {
      issued.push(store.rotateRefreshToken(grant));
      expect(store.refreshTokenHashCount).toBeLessThanOrEqual(RETIRED_KEPT + 1);
    }
    expect(store.refreshTokenHashCount).toBe(RETIRED_KEPT + 1);
    const lookup = (token: string) => {
      const found = store.findByRefreshToken(token);
      return found && { grant: found.grant.id, current: found.current };
    };
    expect(lookup(issued.at(-1)!)).toEqual({ grant: grant.id, current: true });
    // Recently retired: recognised as spent (the token endpoint revokes the grant for it).
    for (let back = 2; back <= RETIRED_KEPT + 1; back++) {
      expect(lookup(issued.at(-back)!)).toEqual({
        grant: grant.id,
        current: false,
      });
    }
    // Older ones are simply unknown.
    expect(lookup(issued.at(-(RETIRED_KEPT + 2))!)).toBeUndefined();
    expect(lookup(issued[0])).toBeUndefined();
  });
});

describe('AuthorizationCodes', () => {
  const binding = (clientId: string) => ({
    clientId,
    redirectUri: REDIRECT_URI,
    resource: `${PUBLIC_ORIGIN}/api/mcp`,
    email: 'alice@example.com',
  });

  it('forgets used and expired codes to make room, never a pending one', () => {
    const now = 1_000_000;
    const codes = new AuthorizationCodes({ maxCodes: 2 });
    const a = codes.issue(binding('a'), now)!;
    codes.issue(binding('b'), now);
    expect(codes.hasPendingCode('a', now)).toBe(true);
    expect(codes.issue(binding('c'), now)).toBeUndefined();
    expect(codes.take(a, now).status).toBe('valid');
    expect(codes.hasPendingCode('a', now)).toBe(false);
    const c = codes.issue(binding('c'), now)!;
    expect(codes.take(a, now).status).toBe('unknown');
    // Past their 60 seconds, b and c are no longer pending: they make room too.
    const later = now + CODE_LIFETIME_MS;
    expect(codes.hasPendingCode('b', later)).toBe(false);
    expect(codes.issue(binding('d'), later)).toBeDefined();
    expect(codes.issue(binding('e'), later)).toBeDefined();
    expect(codes.take(c, later).status).toBe('unknown');
    expect(codes.size).toBe(2);
  });
});
