import { expect, test } from '@playwright/test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type AccessEmulator,
  startAccessEmulator,
} from '../packages/access-emulator/src/server';
import {
  AUD_TAG,
  E2E_EMULATOR_STATE_DIR,
  EMULATOR_URL,
} from '../playwright.config';
import { accessTokenOf } from './support/accessSession';
import { OAuthTestClient } from '../packages/access-emulator/src/__testUtils__/oauthClient';
import { LoopbackOAuthClient } from './support/loopbackOAuthClient';

// AI agents through Cloudflare Access, end to end: the official MCP SDK's client (its OAuth support, as
// Claude Code or an IDE uses it) against the example backend's MCP actions (/api/mcp-actions/v1), through
// the emulator with Managed OAuth on (--managed-oauth in playwright.config.ts). The agent starts from the
// MCP URL alone: Access answers 401 with where to sign in, the SDK registers itself, a person signs in on the
// usual login page, and the agent's requests reach Backstage as that person (the boundary signs the
// application token in). A CI job's service token and a script's `cloudflared access token` use the same
// endpoint. Refusals come from Access (no token, an expired one, another application's) or from the
// boundary (no catalog user, a device rule), and reach the client as errors it can show.

const MCP_URL = new URL('/api/mcp-actions/v1', EMULATOR_URL);
const AGENT = { name: 'cfaccess-e2e-agent', version: '1.0.0' };
const SERVICE_TOKEN = {
  'CF-Access-Client-Id': 'ci-bot.access',
  'CF-Access-Client-Secret': 'local-dev-secret-not-for-production',
};
/** The entity only its owners (the admins group) may read: examples/entities.yaml. */
const RESTRICTED = 'production-database';

/**
 * The person's part over HTTP, for an authorization URL on `origin`: signed in already (the cookie), so
 * Access redirects straight to the agent's loopback listener with the code.
 */
async function approveOverHttp(authorizationUrl: URL, session: string) {
  const res = await fetch(authorizationUrl, {
    headers: { cookie: `CF_Authorization=${session}` },
    redirect: 'manual',
  });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location')!);
  expect(location.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  await fetch(location);
}

/**
 * Authorizes an agent the way an MCP client does the first time: the connection is refused with 401, the
 * SDK discovers Access's authorization server and registers; `approve` is the person's sign-in; the code
 * goes back to the SDK, which exchanges it for tokens.
 */
async function authorizeAgent(
  oauth: LoopbackOAuthClient,
  approve: (authorizationUrl: URL) => Promise<void>,
) {
  const first = new StreamableHTTPClientTransport(MCP_URL, {
    authProvider: oauth,
  });
  await expect(new Client(AGENT).connect(first)).rejects.toBeInstanceOf(
    UnauthorizedError,
  );
  expect(oauth.authorizationUrl).toBeDefined();
  await approve(oauth.authorizationUrl!);
  await first.finishAuth(await oauth.nextCode());
}

/** The authorized agent's connection: a new one, carrying the token. */
async function connectAgent(oauth: LoopbackOAuthClient): Promise<Client> {
  const client = new Client(AGENT);
  await client.connect(
    new StreamableHTTPClientTransport(MCP_URL, { authProvider: oauth }),
  );
  return client;
}

/** A client that sends fixed headers (a service token, a cf-access-token, a bearer), no OAuth. */
async function connectWithHeaders(
  headers: Record<string, string>,
  url: URL = MCP_URL,
): Promise<Client> {
  const client = new Client(AGENT);
  await client.connect(
    new StreamableHTTPClientTransport(url, { requestInit: { headers } }),
  );
  return client;
}

async function whoAmI(client: Client): Promise<string> {
  const result = await client.callTool({
    name: 'auth.who-am-i',
    arguments: {},
  });
  expect(result.isError ?? false).toBe(false);
  return (result.structuredContent as any).userInfo.userEntityRef;
}

/** The names of the catalog's Resource entities the caller may read, through the catalog's MCP action. */
async function resourcesSeenBy(client: Client): Promise<string[]> {
  const result = await client.callTool({
    name: 'catalog.query-catalog-entities',
    arguments: { query: { kind: 'Resource' } },
  });
  expect(result.isError ?? false).toBe(false);
  return (result.structuredContent as any).items.map(
    (entity: { metadata: { name: string } }) => entity.metadata.name,
  );
}

/** What connecting fails with: the StreamableHTTPError's status and text. */
async function refusalOf(connect: Promise<unknown>) {
  const error = await connect.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StreamableHTTPError);
  return {
    status: (error as StreamableHTTPError).code,
    message: (error as Error).message,
  };
}

test.describe('an MCP client signs in through Access with Managed OAuth', () => {
  let oauth: LoopbackOAuthClient;

  test.beforeEach(async () => {
    oauth = await LoopbackOAuthClient.start();
  });

  test.afterEach(async () => {
    await oauth?.close();
  });

  test('from nothing to a tool call, the person signing in in Chromium', async ({
    page,
  }) => {
    const signInInBrowser = async (authorizationUrl: URL) => {
      await page.goto(authorizationUrl.toString());
      // No Access session yet: the usual login page.
      await expect(page).toHaveURL(/\/cdn-cgi\/access\/login/);
      await page.getByRole('button', { name: /Alice Example/ }).click();
      // Back through the authorization endpoint to the agent's loopback listener.
      await expect(page.getByText('You can close this window')).toBeVisible();
      expect(new URL(page.url()).origin).toBe(
        new URL(oauth.redirectUrl).origin,
      );
    };
    await authorizeAgent(oauth, signInInBrowser);
    const client = await connectAgent(oauth);
    try {
      // Discovery went to Access, not to Backstage's auth backend.
      expect(oauth.authorizationUrl!.origin).toBe(EMULATOR_URL);
      expect(oauth.authorizationUrl!.pathname).toBe(
        '/cdn-cgi/access/oauth/authorization',
      );
      expect(oauth.authorizationUrl!.searchParams.get('resource')).toBe(
        MCP_URL.toString(),
      );
      expect(oauth.tokens()?.access_token).toMatch(/^oauth:/);

      const tools = (await client.listTools()).tools.map(tool => tool.name);
      expect(tools).toEqual(
        expect.arrayContaining([
          'auth.who-am-i',
          'catalog.get-catalog-entity',
          'catalog.query-catalog-entities',
        ]),
      );
      // Read-only actions only (backend.actions.filter in app-config.yaml): none that changes the catalog.
      expect(tools).not.toContain('catalog.unregister-entity');
      expect(tools).not.toContain('catalog.register-entity');
      // The action runs as Alice: who-am-i says so, and the permission policy lets her (an admin) read the
      // restricted entity.
      expect(await whoAmI(client)).toBe('user:default/alice');
      expect(await resourcesSeenBy(client)).toContain(RESTRICTED);
      const entity = await client.callTool({
        name: 'catalog.get-catalog-entity',
        arguments: { kind: 'Component', name: 'example-website' },
      });
      expect((entity.structuredContent as any).spec.owner).toBe('engineering');
    } finally {
      await client.close();
    }
  });

  test('a person no resolver signs in gets 403 user_not_found, which the client can show', async () => {
    // Dana passes Access (the emulator lets any email in) but has no catalog User.
    const session = await accessTokenOf('dana@example.com');
    await authorizeAgent(oauth, url => approveOverHttp(url, session));
    const refusal = await refusalOf(connectAgent(oauth));
    expect(refusal.status).toBe(403);
    expect(refusal.message).toContain('user_not_found');
    expect(refusal.message).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  test("a device rule refuses the person's agent as it refuses the person", async () => {
    // Bob's laptop fails the disk-encryption check; the example's rule "Agents act from a managed device".
    const session = await accessTokenOf('bob@example.com');
    await authorizeAgent(oauth, url => approveOverHttp(url, session));
    const refusal = await refusalOf(connectAgent(oauth));
    expect(refusal.status).toBe(403);
    expect(refusal.message).toContain('posture_required');
    expect(refusal.message).toContain('Disk encryption');
  });
});

test.describe('scripts and CI on the same MCP endpoint', () => {
  test('a CI job with a service token', async () => {
    const client = await connectWithHeaders(SERVICE_TOKEN);
    try {
      expect(await whoAmI(client)).toBe('user:default/ci-bot');
      // ci-bot owns nothing: the restricted entity stays hidden, as for any non-owner.
      const seen = await resourcesSeenBy(client);
      expect(seen).not.toContain(RESTRICTED);
    } finally {
      await client.close();
    }
  });

  test('one JSON-RPC request with curl, as the recipe does (the endpoint is stateless)', async () => {
    const res = await fetch(MCP_URL, {
      method: 'POST',
      headers: {
        ...SERVICE_TOKEN,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'auth.who-am-i', arguments: {} },
      }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    // A JSON answer, or one server-sent event carrying it.
    const message = JSON.parse(
      text.startsWith('{') ? text : /^data: (.*)$/m.exec(text)![1],
    );
    expect(message.result.structuredContent.userInfo.userEntityRef).toBe(
      'user:default/ci-bot',
    );
  });

  test('a script with `cloudflared access token` (the cf-access-token header)', async () => {
    const client = await connectWithHeaders({
      'cf-access-token': await accessTokenOf('alice@example.com'),
    });
    try {
      expect(await whoAmI(client)).toBe('user:default/alice');
      expect(await resourcesSeenBy(client)).toContain(RESTRICTED);
    } finally {
      await client.close();
    }
  });
});

test.describe('what Access refuses before Backstage sees it', () => {
  test('no token: 401 with the WWW-Authenticate challenge that starts Managed OAuth', async () => {
    const res = await fetch(MCP_URL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer realm="OAuth", error="invalid_token", error_description="Missing or invalid access token", resource_metadata="${EMULATOR_URL}/.well-known/cloudflare-access-protected-resource/api/mcp-actions/v1"`,
    );
    // What the challenge points at: Access as the authorization server, never Backstage's auth backend.
    const metadata = await (
      await fetch(
        `${EMULATOR_URL}/.well-known/cloudflare-access-protected-resource/api/mcp-actions/v1`,
      )
    ).json();
    expect(metadata).toMatchObject({
      resource: MCP_URL.toString(),
      authorization_servers: [EMULATOR_URL],
    });
    const server = await (
      await fetch(`${EMULATOR_URL}/.well-known/oauth-authorization-server`)
    ).json();
    expect(server).toMatchObject({
      issuer: EMULATOR_URL,
      code_challenge_methods_supported: ['S256'],
      registration_endpoint: `${EMULATOR_URL}/cdn-cgi/access/oauth/registration`,
    });
    // And the SDK without credentials is refused with that 401.
    const refusal = await refusalOf(connectWithHeaders({}));
    expect(refusal.status).toBe(401);
  });

  test.describe('tokens of other applications, and tokens that expired', () => {
    // Two more emulators that share the e2e emulator's keys (one Access team): `sameApplication` serves the
    // same application (issuer and AUD tag), with four-second access tokens; `otherApplication` is another
    // Access application of the team. Both log why they refuse.
    let sameApplication: AccessEmulator;
    let otherApplication: AccessEmulator;
    const logs: string[] = [];

    test.beforeAll(async () => {
      sameApplication = await startAccessEmulator({
        port: 0,
        publicUrl: EMULATOR_URL,
        stateDir: E2E_EMULATOR_STATE_DIR,
        audience: AUD_TAG,
        backendUrl: 'http://localhost:7007',
        usersFile: 'examples/access-users.yaml',
        managedOAuth: { accessTokenLifetime: '4s' },
        log: line => logs.push(line),
      });
      otherApplication = await startAccessEmulator({
        port: 0,
        stateDir: E2E_EMULATOR_STATE_DIR,
        audience: 'another-access-application-aud-tag',
        usersFile: 'examples/access-users.yaml',
        managedOAuth: true,
      });
    });

    test.afterAll(async () => {
      await sameApplication?.close();
      await otherApplication?.close();
    });

    test('an expired oauth: token gets 401; the grant session refreshes it', async () => {
      // The emulator tests' client: registers, signs Alice in, authorizes and exchanges over HTTP.
      const client = new OAuthTestClient(sameApplication);
      const tokens = await client.issueTokens('alice@example.com');
      expect(tokens.expires_in).toBe(4);
      const url = new URL('/api/mcp-actions/v1', sameApplication.listenUrl);
      const fresh = await connectWithHeaders(
        { authorization: `Bearer ${tokens.access_token}` },
        url,
      );
      expect(await whoAmI(fresh)).toBe('user:default/alice');
      await fresh.close();

      // Expiry is in whole seconds: past it for sure.
      await new Promise(resolve => setTimeout(resolve, 5000));
      const refusal = await refusalOf(
        connectWithHeaders(
          { authorization: `Bearer ${tokens.access_token}` },
          url,
        ),
      );
      expect(refusal.status).toBe(401);
      expect(logs.some(line => /oauth: expired/.test(line))).toBe(true);

      const refreshed = await client.token({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: tokens.clientId,
      });
      expect(refreshed.status).toBe(200);
      const again = await connectWithHeaders(
        { authorization: `Bearer ${refreshed.body.access_token}` },
        url,
      );
      expect(await whoAmI(again)).toBe('user:default/alice');
      await again.close();
    });

    test("another application's oauth: token is refused with 401", async () => {
      const tokens = await new OAuthTestClient(otherApplication).issueTokens(
        'alice@example.com',
      );
      const bearer = { authorization: `Bearer ${tokens.access_token}` };
      // At the example's emulator, and at the second edge of the same application, which logs why.
      expect((await refusalOf(connectWithHeaders(bearer))).status).toBe(401);
      const refusal = await refusalOf(
        connectWithHeaders(
          bearer,
          new URL('/api/mcp-actions/v1', sameApplication.listenUrl),
        ),
      );
      expect(refusal.status).toBe(401);
      expect(logs.some(line => /oauth: another application/.test(line))).toBe(
        true,
      );
    });
  });
});
