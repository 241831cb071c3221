/*
 * An OAuth client for tests of Managed OAuth, speaking to an emulator over HTTP as an MCP client would:
 * register, authorize (signing the person in with the login form), exchange the code, refresh.
 */
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import type { AccessEmulator } from '../server';
import { cookieFrom } from './origins';

export const REDIRECT_URI = 'http://127.0.0.1:33418/callback';
export const AUTHORIZATION_PATH = '/cdn-cgi/access/oauth/authorization';
export const TOKEN_PATH = '/cdn-cgi/access/oauth/token';
export const REGISTRATION_PATH = '/cdn-cgi/access/oauth/registration';
export const REVOCATION_PATH = '/cdn-cgi/access/oauth/revoke';

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  resource: string;
  clientId: string;
}

export class OAuthTestClient {
  constructor(readonly emulator: AccessEmulator) {}

  /** Requests carry the public URL's Host, as a client using `emulator.url` sends it. */
  get host() {
    return new URL(this.emulator.url).host;
  }

  get resource() {
    return `${this.emulator.url}/api/mcp`;
  }

  get(path: string) {
    return request(this.emulator.listenUrl).get(path).set('Host', this.host);
  }

  post(path: string) {
    return request(this.emulator.listenUrl).post(path).set('Host', this.host);
  }

  delete(path: string) {
    return request(this.emulator.listenUrl).delete(path).set('Host', this.host);
  }

  async register(body: Record<string, unknown> = {}) {
    const res = await this.post(REGISTRATION_PATH).send({
      redirect_uris: [REDIRECT_URI],
      client_name: 'test client',
      grant_types: ['authorization_code', 'refresh_token'],
      ...body,
    });
    if (res.status !== 201) {
      throw new Error(`registration: ${res.status} ${res.text}`);
    }
    return res.body as { client_id: string; client_secret?: string };
  }

  authorizePath(params: Record<string, string | undefined>): string {
    const query = new URLSearchParams(
      Object.entries(params).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    );
    return `${AUTHORIZATION_PATH}?${query}`;
  }

  /** Default authorization parameters for a client and challenge. */
  authorizeParams(clientId: string, challenge: string) {
    return {
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: this.resource,
      state: 'st-123',
    };
  }

  /** Signs a person in with the login form (no Origin: a script) and returns the session cookie. */
  async signIn(email = 'alice@example.com', redirectUrl = '/') {
    const res = await this.post('/cdn-cgi/access/login')
      .type('form')
      .send({ email, redirect_url: redirectUrl });
    if (res.status !== 302) {
      throw new Error(`login: ${res.status}`);
    }
    return { cookie: cookieFrom(res.headers['set-cookie']), res };
  }

  /** The code the authorization endpoint hands to the redirect URI for a signed-in person. */
  async code(params: Record<string, string | undefined>, cookie: string) {
    const res = await this.get(this.authorizePath(params)).set(
      'Cookie',
      `CF_Authorization=${cookie}`,
    );
    if (res.status !== 302) {
      throw new Error(`authorize: ${res.status} ${res.text}`);
    }
    const location = new URL(res.headers.location);
    const code = location.searchParams.get('code');
    if (!code) {
      throw new Error(`authorize: no code in ${res.headers.location}`);
    }
    return code;
  }

  token(form: Record<string, string | undefined>) {
    return this.post(TOKEN_PATH)
      .type('form')
      .send(
        Object.fromEntries(
          Object.entries(form).filter(([, value]) => value !== undefined),
        ),
      );
  }

  /** Register, sign in, authorize and exchange: a person's tokens for a new public client. */
  async issueTokens(email = 'alice@example.com'): Promise<IssuedTokens> {
    const { client_id: clientId } = await this.register();
    const { verifier, challenge } = pkcePair();
    const { cookie } = await this.signIn(email);
    const code = await this.code(
      this.authorizeParams(clientId, challenge),
      cookie,
    );
    const res = await this.token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: clientId,
      resource: this.resource,
    });
    if (res.status !== 200) {
      throw new Error(`token: ${res.status} ${res.text}`);
    }
    return { ...res.body, clientId };
  }
}
