import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { KeyStore } from '../keys';
import { AccessTokens } from './accessTokens';

const ISSUER = 'http://localhost:7999';
const RESOURCE = `${ISSUER}/api/mcp`;

describe('AccessTokens', () => {
  let keys: KeyStore;
  let accessTokens: AccessTokens;
  const now = () => Date.now();
  const exp = () => Math.floor(now() / 1000) + 60;

  beforeAll(async () => {
    keys = await KeyStore.open();
    accessTokens = new AccessTokens(keys, {
      issuer: ISSUER,
      audience: ['tag-one', 'tag-two'],
    });
  });

  const claims = { email: 'alice@example.com', client_id: 'c', sid: 'g' };

  it('signs a token that is no application token: its own type, the resource as aud, the AUD tags apart', async () => {
    const token = await accessTokens.mint(
      { ...claims, resource: RESOURCE },
      now(),
      exp(),
    );
    const jws = token.slice('oauth:'.length);
    expect(decodeProtectedHeader(jws).typ).toBe('at+jwt');
    const payload = decodeJwt(jws);
    expect(payload).toMatchObject({
      ...claims,
      iss: ISSUER,
      type: 'oauth_access',
      aud: RESOURCE,
      app_aud: ['tag-one', 'tag-two'],
    });
    // What an origin's verifier refuses: a `type` other than `app`, and no AUD tag in `aud`.
    expect(payload.type).not.toBe('app');
    expect([payload.aud].flat()).not.toContain('tag-one');
    expect([payload.aud].flat()).not.toContain('tag-two');
    expect(await accessTokens.verify(token, now())).toEqual({
      ok: true,
      claims: { ...claims, exp: payload.exp },
    });
  });

  /** A JWS signed with the team key, as an access token but for the claims given. */
  const forge = (payload: Record<string, unknown>, typ = 'at+jwt') =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: keys.current.kid, typ })
      .setIssuer(ISSUER)
      .setExpirationTime(exp())
      .sign(keys.current.privateKey)
      .then(jws => `oauth:${jws}`);

  it.each([
    ['no type', { type: undefined }],
    ["Access's application type", { type: 'app' }],
    ['another type', { type: 'org' }],
    ['no app_aud', { app_aud: undefined }],
  ])('requires its own type and claims: refuses %s', async (_name, change) => {
    const token = await forge({
      ...claims,
      type: 'oauth_access',
      aud: RESOURCE,
      app_aud: ['tag-one'],
      ...change,
    });
    expect(await accessTokens.verify(token, now())).toEqual({
      ok: false,
      reason: 'invalid token',
    });
  });

  it('names a token of another application of the team (other AUD tags) as such', async () => {
    const token = await forge({
      ...claims,
      type: 'oauth_access',
      aud: RESOURCE,
      app_aud: ['tag-three'],
    });
    expect(await accessTokens.verify(token, now())).toEqual({
      ok: false,
      reason: 'another application',
    });
    // The AUD tag in `aud` (an application token's place for it) does not make it this application's.
    const inAud = await forge({
      ...claims,
      type: 'oauth_access',
      aud: ['tag-one'],
      app_aud: ['tag-three'],
    });
    expect((await accessTokens.verify(inAud, now())).ok).toBe(false);
  });
});
