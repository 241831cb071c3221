/*
 * A real OpenID Connect provider for tests: oidc-provider, run in-process, with a minimal login page
 * (username + password) and implicit consent, like Authentik's "implicit consent" authorization flow or
 * PocketID after the first login. Used by the emulator's unit tests and by the end-to-end tests.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ClientAuthMethod, Provider } from 'oidc-provider';
import { listenClosable } from '../httpServer';

export interface TestOidcAccount {
  /** What the user types as username; also the `sub`. */
  login: string;
  password: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  /** Anything in the `groups` claim (strings, objects, ...). */
  groups?: unknown;
  /** More claims, released with the scopes below (`profile` releases `preferred_username`, ...). */
  extra?: Record<string, unknown>;
}

export interface TestOidcClient {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
  /** Default `client_secret_basic` with a secret, `none` without. */
  tokenEndpointAuthMethod?: ClientAuthMethod;
}

export interface TestOidcProviderOptions {
  port?: number;
  host?: string;
  /** Issuer; default `http://localhost:<port>`. */
  issuer?: string;
  accounts: TestOidcAccount[];
  clients: TestOidcClient[];
  /**
   * oidc-provider's default (true) keeps profile claims out of the id token of a code flow (they are only
   * in userinfo); false puts them in the id token, as PocketID and Authentik do. Default false.
   */
  conformIdTokenClaims?: boolean;
  /** Require PKCE from every client. Default true. */
  requirePkce?: boolean;
  /** Title of the login page. Default "Test IdP". */
  title?: string;
  /** More claims released with the `profile` scope (e.g. a custom `department`). */
  extraProfileClaims?: string[];
}

export interface TestOidcProvider {
  issuer: string;
  port: number;
  provider: Provider;
  /** Requests seen (method and path, no query), for assertions. */
  requests: string[];
  close(): Promise<void>;
}

const escapeHtml = (value: unknown) =>
  String(value ?? '').replace(
    /[&<>"']/g,
    c =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[
        c
      ]!),
  );

function loginPage(title: string, action: string, abort: string, error = '') {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(
    title,
  )} · Sign in</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
<label for="login">Username</label> <input id="login" name="login" autocomplete="username" required>
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>
<p><a href="${escapeHtml(abort)}">Cancel</a></p>
</body></html>`;
}

async function readForm(req: http.IncomingMessage) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) {
      throw new Error('form too large');
    }
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startTestOidcProvider(
  options: TestOidcProviderOptions,
): Promise<TestOidcProvider> {
  const host = options.host ?? '127.0.0.1';
  const { server, close } = await listenClosable(options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const issuer = options.issuer ?? `http://localhost:${port}`;
  const title = options.title ?? 'Test IdP';

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: randomBytes(8).toString('hex'),
    alg: 'RS256',
    use: 'sig',
  };

  const accounts = new Map(options.accounts.map(a => [a.login, a]));
  const provider = new Provider(issuer, {
    clients: options.clients.map(c => ({
      client_id: c.clientId,
      ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
      redirect_uris: c.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method:
        c.tokenEndpointAuthMethod ??
        (c.clientSecret ? 'client_secret_basic' : 'none'),
    })),
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: [
        'name',
        'preferred_username',
        'given_name',
        'family_name',
        ...(options.extraProfileClaims ?? []),
      ],
      groups: ['groups'],
    },
    conformIdTokenClaims: options.conformIdTokenClaims ?? false,
    pkce: { required: () => options.requirePkce ?? true },
    features: { devInteractions: { enabled: false } },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
    },
    jwks: { keys: [jwk as any] },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) {
        return undefined;
      }
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            ...(account.email !== undefined ? { email: account.email } : {}),
            ...(account.email_verified !== undefined
              ? { email_verified: account.email_verified }
              : {}),
            ...(account.name !== undefined ? { name: account.name } : {}),
            ...(account.groups !== undefined
              ? { groups: account.groups as any }
              : {}),
            ...account.extra,
          };
        },
      };
    },
  });
  // Quiet: expected errors (e.g. a test's bad client secret) are asserted by the tests themselves.
  provider.on('server_error', () => {});

  const requests: string[] = [];
  const oidc = provider.callback();
  server.on('request', async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    requests.push(`${req.method} ${url.pathname}`);
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/abort)?$/.exec(
      url.pathname,
    );
    if (!match) {
      oidc(req, res);
      return;
    }
    try {
      const details = await provider.interactionDetails(req, res);
      if (match[2]) {
        await provider.interactionFinished(
          req,
          res,
          {
            error: 'access_denied',
            error_description: 'End-User aborted interaction',
          },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      if (details.prompt.name === 'consent') {
        // Implicit consent: grant what the client asked for.
        const grant = details.grantId
          ? (await provider.Grant.find(details.grantId))!
          : new provider.Grant({
              accountId: details.session!.accountId,
              clientId: String(details.params.client_id),
            });
        const missing = details.prompt.details as {
          missingOIDCScope?: string[];
          missingOIDCClaims?: string[];
        };
        if (missing.missingOIDCScope) {
          grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        }
        if (missing.missingOIDCClaims) {
          grant.addOIDCClaims(missing.missingOIDCClaims);
        }
        await provider.interactionFinished(
          req,
          res,
          { consent: { grantId: await grant.save() } },
          { mergeWithLastSubmission: true },
        );
        return;
      }
      const action = `/interaction/${details.uid}`;
      const abort = `${action}/abort`;
      if (req.method === 'POST') {
        const form = await readForm(req);
        const account = accounts.get(form.get('login') ?? '');
        if (!account || account.password !== form.get('password')) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(
            loginPage(title, action, abort, 'Wrong username or password.'),
          );
          return;
        }
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: account.login } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(loginPage(title, action, abort));
    } catch (error: any) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${error?.message ?? error}`);
    }
  });

  return {
    issuer,
    port,
    provider,
    requests,
    close,
  };
}
