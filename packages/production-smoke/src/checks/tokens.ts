/*
 * Machines and attackers: a service token signs in through the edge, and calls the MCP actions as a CI
 * job's agent does; a forged token sent straight to the backend (skipping Access) gets 401 with a reason
 * code; the development service token is not allowed.
 */
import type { AccessEmulator } from '@cfaccess/access-emulator';
import type { Report } from '@cfaccess/harness';
import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { request } from '../https';
import { BACKEND_URL, EDGE_URL } from '../ports';

const REFRESH = '/api/auth/cfaccess/refresh';

/** The reason code of an error answer (Backstage's error body carries it as `error.reason`). */
function reasonIn(body: string): string | undefined {
  try {
    const reason = JSON.parse(body)?.error?.reason;
    return typeof reason === 'string' ? reason : undefined;
  } catch {
    return undefined;
  }
}

function userEntityRef(body: string): string | undefined {
  try {
    return JSON.parse(body)?.backstageIdentity?.identity?.userEntityRef;
  } catch {
    return undefined;
  }
}

export async function checkServiceToken(
  report: Report,
  options: {
    caCertPem: string;
    serviceToken: { clientId: string; clientSecret: string };
  },
) {
  const started = Date.now();
  const res = await request(`${EDGE_URL}${REFRESH}`, {
    ca: options.caCertPem,
    headers: {
      'CF-Access-Client-Id': options.serviceToken.clientId,
      'CF-Access-Client-Secret': options.serviceToken.clientSecret,
    },
  });
  const ref = userEntityRef(res.body);
  report.check(
    'a service token signs in through the HTTPS edge',
    res.status === 200 && ref === 'user:default/ci-bot',
    `${res.status} as ${ref}, ${Date.now() - started} ms`,
  );
}

/** The MCP result of one JSON-RPC answer, sent as JSON or as one server-sent event. */
function mcpResult(body: string): any {
  try {
    const json = body.startsWith('{') ? body : /^data: (.*)$/m.exec(body)?.[1];
    return json ? JSON.parse(json)?.result : undefined;
  } catch {
    return undefined;
  }
}

export async function checkMcpActions(
  report: Report,
  options: {
    caCertPem: string;
    serviceToken: { clientId: string; clientSecret: string };
  },
) {
  const started = Date.now();
  const res = await request(`${EDGE_URL}/api/mcp-actions/v1`, {
    ca: options.caCertPem,
    method: 'POST',
    headers: {
      'CF-Access-Client-Id': options.serviceToken.clientId,
      'CF-Access-Client-Secret': options.serviceToken.clientSecret,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'auth.who-am-i', arguments: {} },
    }),
  });
  const ref = mcpResult(res.body)?.structuredContent?.userInfo?.userEntityRef;
  report.check(
    "a CI job's service token calls the MCP actions through the HTTPS edge",
    res.status === 200 && ref === 'user:default/ci-bot',
    `${res.status} as ${ref}, ${Date.now() - started} ms`,
  );
}

export async function checkForgedTokens(
  report: Report,
  emulator: AccessEmulator,
) {
  // Same claims and kid as a real token, signed with a key of our own.
  const real = await emulator.mintUserToken('alice@example.com');
  const { kid } = decodeProtectedHeader(real);
  const { privateKey } = await generateKeyPair('RS256');
  const forged = await new SignJWT({
    email: 'alice@example.com',
    type: 'app',
    identity_nonce: 'forged',
  })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(emulator.issuer)
    .setAudience(emulator.audience)
    .setSubject('forged-sub')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  const res = await request(`${BACKEND_URL}${REFRESH}`, {
    headers: { 'Cf-Access-Jwt-Assertion': forged },
  });
  const reason = reasonIn(res.body);
  report.check(
    'a forged token straight to the backend gets 401 with a reason code',
    res.status === 401 && reason !== undefined && !res.body.includes(forged),
    `${res.status} ${reason ?? 'without a reason code'}`,
  );

  // The emulator signs for any Client ID: the backend's allowlist is what refuses development's token.
  const development = await emulator.mintServiceToken('ci-bot.access');
  const dev = await request(`${BACKEND_URL}${REFRESH}`, {
    headers: { 'Cf-Access-Jwt-Assertion': development },
  });
  report.check(
    'the development service token ci-bot.access is not allowed in production',
    dev.status === 401 && reasonIn(dev.body) === 'unknown_service_token',
    `${dev.status} ${reasonIn(dev.body) ?? 'without a reason code'}`,
  );
}
