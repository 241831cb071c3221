/*
 * An MCP client's side of OAuth, as a command-line agent does it: the official SDK's OAuthClientProvider
 * with everything kept in memory, and a loopback listener (http://127.0.0.1:<port>/callback) that receives
 * the authorization code once the person has signed in. Who opens the authorization URL (Chromium, or
 * plain HTTP requests) is the test's choice.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

export class LoopbackOAuthClient implements OAuthClientProvider {
  /** The last authorization URL the SDK asked to open. */
  authorizationUrl?: URL;
  private client?: OAuthClientInformationMixed;
  private stored?: OAuthTokens;
  private verifier?: string;
  private readonly expectedState = randomBytes(16).toString('base64url');
  private codes: Array<(result: { code?: string; error?: string }) => void> =
    [];
  private received: Array<{ code?: string; error?: string }> = [];

  private constructor(
    private readonly server: http.Server,
    readonly redirectUrl: string,
  ) {}

  /** Starts the loopback listener the authorization server redirects to. */
  static async start(): Promise<LoopbackOAuthClient> {
    const server = http.createServer();
    await new Promise<void>(resolve =>
      server.listen(0, '127.0.0.1', () => resolve()),
    );
    const { port } = server.address() as AddressInfo;
    const client = new LoopbackOAuthClient(
      server,
      `http://127.0.0.1:${port}/callback`,
    );
    server.on('request', (req, res) => client.onCallback(req, res));
    return client;
  }

  private onCallback(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', this.redirectUrl);
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const state = url.searchParams.get('state');
    const result =
      state !== this.expectedState
        ? { error: 'state_mismatch' }
        : {
            code: url.searchParams.get('code') ?? undefined,
            error: url.searchParams.get('error') ?? undefined,
          };
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        result.code
          ? '<p>Signed in. You can close this window.</p>'
          : '<p>Sign-in failed.</p>',
      );
    const waiting = this.codes.shift();
    if (waiting) {
      waiting(result);
    } else {
      this.received.push(result);
    }
  }

  /** The code the next redirect to the loopback listener brings; rejects on an OAuth error. */
  async nextCode(): Promise<string> {
    const result =
      this.received.shift() ??
      (await new Promise<{ code?: string; error?: string }>(resolve =>
        this.codes.push(resolve),
      ));
    if (!result.code) {
      throw new Error(`authorization failed: ${result.error ?? 'no code'}`);
    }
    return result.code;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'cfaccess e2e agent',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state() {
    return this.expectedState;
  }

  clientInformation() {
    return this.client;
  }

  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }

  tokens() {
    return this.stored;
  }

  saveTokens(tokens: OAuthTokens) {
    this.stored = tokens;
  }

  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }

  codeVerifier() {
    if (!this.verifier) {
      throw new Error('no code verifier saved');
    }
    return this.verifier;
  }

  close(): Promise<void> {
    return new Promise(resolve => this.server.close(() => resolve()));
  }
}
