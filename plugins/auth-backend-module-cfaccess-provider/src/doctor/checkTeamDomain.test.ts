import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, exportJWK } from 'jose';
import { startAccessEmulator, AccessEmulator } from '@cfaccess/access-emulator';
import { readCfAccessConfig, readDeploymentMode } from '../config/readConfig';
import { ConfigReader } from '@backstage/config';
import { checkTeamDomain } from './checkTeamDomain';

const development = readDeploymentMode(
  new ConfigReader({ auth: { environment: 'development' } }),
  'development',
);
const configFor = (teamDomain: string, extra: object = {}) =>
  readCfAccessConfig(
    new ConfigReader({ teamDomain, audience: 'aud', ...extra }),
    { mode: development },
  );

/** Serves `body` as the certs answer, with the given Date header. */
async function certsServer(
  answer: () => Promise<{ body: string; date?: string }>,
) {
  const server = http.createServer(async (_req, res) => {
    const { body, date } = await answer();
    res.sendDate = !date;
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(date && { date }),
    });
    res.end(body);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise(resolve => server.close(resolve)),
  };
}

let emulator: AccessEmulator;
beforeAll(async () => {
  emulator = await startAccessEmulator({ port: 0 });
});
afterAll(() => emulator.close());

const emulatorCerts = async () => (await fetch(emulator.certsUrl)).text();

describe('checkTeamDomain', () => {
  it("lists the team's RS256 keys and its certificates", async () => {
    const { previousKid } = await emulator.rotateKeys();
    const check = await checkTeamDomain(configFor(emulator.url));
    expect(check.ok).toBe(true);
    expect(check.error).toBeUndefined();
    expect(check.keys).toHaveLength(2);
    expect(check.keys.every(k => k.usable && k.alg === 'RS256')).toBe(true);
    expect(check.keys.map(k => k.kid)).toContain(previousKid);
    expect(check.publicCerts).toHaveLength(2);
    expect(check.publicCert).toBe(check.keys[0].kid);
    expect(Math.abs(check.clockSkewSeconds!)).toBeLessThanOrEqual(2);
    expect(check.warnings).toEqual([]);
  });

  it("warns when this machine's clock is off past the tolerance", async () => {
    const server = await certsServer(async () => ({
      body: await emulatorCerts(),
      date: new Date(Date.now() - 5 * 60_000).toUTCString(),
    }));
    try {
      const check = await checkTeamDomain(configFor(server.url));
      expect(check.ok).toBe(true);
      expect(check.clockSkewSeconds).toBeGreaterThanOrEqual(299);
      expect(check.warnings).toEqual([
        expect.stringMatching(
          /^this machine's clock is 30\d s ahead of the team domain's .* more than clockToleranceSeconds \(60 s\): a backend with this clock rejects tokens as expired up to 24\d s before they expire; sync the clock \(NTP\)$/,
        ),
      ]);
      // Within the tolerance: no warning.
      const tolerant = await checkTeamDomain(
        configFor(server.url, { clockToleranceSeconds: 300 }),
      );
      expect(tolerant.warnings).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('warns about keys the module ignores, and fails without a usable one', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const ec = { ...(await exportJWK(publicKey)), kid: 'ec-key', alg: 'ES256' };
    const certs = JSON.parse(await emulatorCerts());
    const mixed = await certsServer(async () => ({
      body: JSON.stringify({ ...certs, keys: [...certs.keys, ec] }),
    }));
    const onlyEc = await certsServer(async () => ({
      body: JSON.stringify({ keys: [ec] }),
    }));
    try {
      const check = await checkTeamDomain(configFor(mixed.url));
      expect(check.ok).toBe(true);
      expect(check.warnings).toEqual([
        'the key with kid ec-key (kty EC, alg ES256) is ignored: Cloudflare Access signs with RS256 RSA keys only',
      ]);
      const none = await checkTeamDomain(configFor(onlyEc.url));
      expect(none.ok).toBe(false);
      expect(none.error).toBe(
        `${onlyEc.url}/cdn-cgi/access/certs: certs endpoint returned no usable RSA signing keys`,
      );
      expect(none.warnings).toContain(
        'the certs answer has no public_cert, which Cloudflare Access always publishes: is ' +
          `${onlyEc.url}/cdn-cgi/access/certs really the team domain?`,
      );
    } finally {
      await mixed.close();
      await onlyEc.close();
    }
  });

  it('reports an unreachable team domain and an error status', async () => {
    const closed = await certsServer(async () => ({ body: '' }));
    await closed.close();
    const unreachable = await checkTeamDomain(configFor(closed.url));
    expect(unreachable.ok).toBe(false);
    expect(unreachable.error).toMatch(
      /did not answer within jwks\.timeoutMs \(5000 ms\): "(TypeError: )?fetch failed" \(ECONNREFUSED\)$/,
    );

    emulator.setFaults({ certsStatus: 503 });
    try {
      const failing = await checkTeamDomain(configFor(emulator.url));
      expect(failing.ok).toBe(false);
      expect(failing.error).toMatch(/answered HTTP 503: not a key set$/);
      // The status and the clock are reported all the same.
      expect(failing.status).toBe(503);
      expect(failing.clockSkewSeconds).toEqual(expect.any(Number));
    } finally {
      emulator.clearFaults();
    }
  });

  it('reports the status and the clock of an answer it cannot read, and why', async () => {
    const date = new Date(Date.now() - 5 * 60_000).toUTCString();
    const html = await certsServer(async () => ({ body: '<html>', date }));
    const huge = await certsServer(async () => ({
      body: JSON.stringify({ keys: [], pad: 'x'.repeat(20_000) }),
      date,
    }));
    try {
      const notJson = await checkTeamDomain(configFor(html.url));
      expect(notJson).toMatchObject({ ok: false, status: 200 });
      expect(notJson.error).toMatch(/something other than JSON/);
      expect(notJson.clockSkewSeconds).toBeGreaterThanOrEqual(299);
      expect(notJson.warnings).toEqual([
        expect.stringMatching(/^this machine's clock is 30\d s ahead/),
      ]);
      const tooLarge = await checkTeamDomain(
        configFor(huge.url, { jwks: { maxBodyBytes: 16_384 } }),
      );
      expect(tooLarge).toMatchObject({ ok: false, status: 200 });
      expect(tooLarge.error).toMatch(
        /answered with more than jwks\.maxBodyBytes \(16384 bytes\)$/,
      );
      expect(tooLarge.clockSkewSeconds).toBeGreaterThanOrEqual(299);
    } finally {
      await html.close();
      await huge.close();
    }
  });

  it('gives up after jwks.timeoutMs', async () => {
    emulator.setFaults({ latencyMs: 2000 });
    try {
      const started = Date.now();
      const check = await checkTeamDomain(
        configFor(emulator.url, { jwks: { timeoutMs: 200 } }),
      );
      expect(check.ok).toBe(false);
      expect(check.error).toMatch(
        /within jwks\.timeoutMs \(200 ms\): request timed out$/,
      );
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      emulator.clearFaults();
    }
  });
});
