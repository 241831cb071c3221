import { execFile } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTlsCertificates, type TlsCertificates } from './certificates';
import { type AccessEmulator, startAccessEmulator } from './server';
import { createTlsCertificatesProgram, tlsOptionsFromCli } from './cli/tls';
import {
  type TestOrigin,
  cookieFrom,
  startTestOrigin,
} from './__testUtils__/origins';
import { requestUpgrade } from './__testUtils__/upgrade';

const run = promisify(execFile);

/** A request over HTTPS trusting only `ca`. */
function get(
  url: string,
  ca: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
  } = {},
) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const req = https.request(
      url,
      { ca, method: options.method, headers: options.headers },
      res => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', chunk => {
          body += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('createTlsCertificates', () => {
  let certificates: TlsCertificates;
  beforeAll(async () => {
    certificates = await createTlsCertificates();
  });

  it('makes a CA and a server certificate it signed, for the loopback names', () => {
    const ca = new X509Certificate(certificates.caCertPem);
    const cert = new X509Certificate(certificates.certPem);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkHost('evil.example')).toBeUndefined();
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.checkPrivateKey(createPrivateKey(certificates.keyPem))).toBe(
      true,
    );
    expect(certificates.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('is valid now and for a short time only', () => {
    const cert = new X509Certificate(certificates.certPem);
    const now = Date.now();
    expect(cert.validFromDate.getTime()).toBeLessThan(now);
    expect(cert.validToDate.getTime()).toBeGreaterThan(now);
    expect(cert.validToDate.getTime() - now).toBeLessThanOrEqual(
      7 * 24 * 3600 * 1000,
    );
  });

  it('gives the SPKI hash Chromium takes', () => {
    const cert = new X509Certificate(certificates.certPem);
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    expect(certificates.spkiSha256).toBe(
      createHash('sha256').update(spki).digest('base64'),
    );
  });

  it('makes a new CA every time', async () => {
    const other = await createTlsCertificates({ hosts: ['backstage.test'] });
    const cert = new X509Certificate(other.certPem);
    expect(cert.subjectAltName).toBe('DNS:backstage.test');
    expect(cert.checkIssued(new X509Certificate(certificates.caCertPem))).toBe(
      false,
    );
  });

  it.each([
    [{ hosts: [] }, /at least one host/],
    [
      { hosts: ['bad host'] },
      /"bad host" is neither an IP address nor a DNS name/,
    ],
    [{ hosts: ['https://localhost'] }, /neither an IP address nor a DNS name/],
    [{ validDays: 0 }, /validDays must be an integer from 1 to 397/],
    [{ validDays: 1000 }, /validDays/],
  ])('refuses %p', async (options, message) => {
    await expect(createTlsCertificates(options)).rejects.toThrow(message);
  });
});

describe('the emulator over HTTPS', () => {
  let certificates: TlsCertificates;
  let backend: TestOrigin;
  let emulator: AccessEmulator;
  let dir: string;

  beforeAll(async () => {
    certificates = await createTlsCertificates();
    backend = await startTestOrigin('backend');
    emulator = await startAccessEmulator({
      port: 0,
      backendUrl: backend.url,
      tls: { cert: certificates.certPem, key: certificates.keyPem },
    });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfaccess-emulator-tls-'));
  });

  afterAll(async () => {
    await emulator?.close();
    await backend?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('defaults the public URL and the issuer to https://localhost:<port>', () => {
    expect(emulator.url).toBe(`https://localhost:${emulator.port}`);
    expect(emulator.issuer).toBe(emulator.url);
    expect(emulator.listenUrl).toBe(`https://127.0.0.1:${emulator.port}`);
    expect(emulator.certsUrl).toBe(`${emulator.url}/cdn-cgi/access/certs`);
  });

  it('signs in with a Secure cookie and proxies with the https scheme', async () => {
    const login = await get(
      `${emulator.url}/cdn-cgi/access/login`,
      certificates.caCertPem,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=alice%40example.com&redirect_url=%2F',
      },
    );
    expect(login.status).toBe(302);
    const setCookie = login.headers['set-cookie'] as string[];
    expect(setCookie[0]).toMatch(/; Secure/);
    const token = cookieFrom(setCookie);
    expect((await emulator.verifyToken(token)).iss).toBe(emulator.url);

    const api = await get(`${emulator.url}/api/me`, certificates.caCertPem, {
      headers: { cookie: `CF_Authorization=${token}` },
    });
    expect(api.status).toBe(200);
    const seen = backend.requests[backend.requests.length - 1].headers;
    expect(seen['cf-access-jwt-assertion']).toBe(token);
    expect(seen['x-forwarded-proto']).toBe('https');
    expect(seen['cf-visitor']).toBe('{"scheme":"https"}');
  });

  it('passes WebSocket upgrades through over TLS after the edge check', async () => {
    const token = await emulator.mintUserToken('alice@example.com');
    const url = `${emulator.url}/api/events`;
    const ok = await requestUpgrade(
      url,
      { Cookie: `CF_Authorization=${token}` },
      { ca: certificates.caCertPem },
    );
    expect(ok).toEqual({ status: 101, data: 'hello from backend' });
    const denied = await requestUpgrade(
      url,
      {},
      { ca: certificates.caCertPem },
    );
    expect(denied.status).toBe(302);
  });

  it('answers a Node client that trusts the CA through NODE_EXTRA_CA_CERTS, and only such a client', async () => {
    const caFile = path.join(dir, 'ca.pem');
    await fs.writeFile(caFile, certificates.caCertPem);
    const script = `fetch(${JSON.stringify(
      emulator.certsUrl,
    )}).then(async r => console.log(r.status, (await r.json()).keys.length), e => { console.log(e.cause?.code ?? e.message); process.exit(3); })`;
    const trusted = await run(process.execPath, ['-e', script], {
      env: { NODE_EXTRA_CA_CERTS: caFile },
    });
    expect(trusted.stdout.trim()).toBe('200 1');

    const untrusted = run(process.execPath, ['-e', script], { env: {} });
    await expect(untrusted).rejects.toMatchObject({
      code: 3,
      stdout: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/),
    });
  });

  it('refuses plain HTTP on the HTTPS port', async () => {
    await expect(
      fetch(`http://127.0.0.1:${emulator.port}/cdn-cgi/access/certs`),
    ).rejects.toThrow('fetch failed');
  });
});

describe('HTTPS options', () => {
  it('refuses an http public URL with tls, a bad key, and a key of another certificate', async () => {
    const one = await createTlsCertificates();
    const two = await createTlsCertificates();
    await expect(
      startAccessEmulator({
        port: 0,
        publicUrl: 'http://localhost:7000',
        tls: { cert: one.certPem, key: one.keyPem },
      }),
    ).rejects.toThrow(/publicUrl: must be an https URL when tls is set/);
    await expect(
      startAccessEmulator({
        port: 0,
        tls: { cert: one.certPem, key: 'not a key' },
      }),
    ).rejects.toThrow(/^tls: cannot use the certificate and key/);
    await expect(
      startAccessEmulator({
        port: 0,
        tls: { cert: Buffer.from(one.certPem), key: Buffer.from(two.keyPem) },
      }),
    ).rejects.toThrow(/^tls: cannot use the certificate and key/);
  });

  it('takes an https public URL of another host', async () => {
    const certificates = await createTlsCertificates({
      hosts: ['backstage.test', '127.0.0.1'],
    });
    const emulator = await startAccessEmulator({
      port: 0,
      publicUrl: 'https://backstage.test',
      tls: { cert: certificates.certPem, key: certificates.keyPem },
    });
    try {
      expect(emulator.url).toBe('https://backstage.test');
      const res = await get(
        `${emulator.listenUrl}/cdn-cgi/access/certs`,
        certificates.caCertPem,
      );
      expect(res.status).toBe(200);
    } finally {
      await emulator.close();
    }
  });
});

describe('the TLS command line', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfaccess-emulator-cli-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('needs --tls-cert and --tls-key together', async () => {
    await expect(tlsOptionsFromCli({})).resolves.toBeUndefined();
    await expect(tlsOptionsFromCli({ tlsCert: 'cert.pem' })).rejects.toThrow(
      '--tls-cert and --tls-key go together',
    );
    await expect(tlsOptionsFromCli({ tlsKey: 'key.pem' })).rejects.toThrow(
      '--tls-cert and --tls-key go together',
    );
    await expect(
      tlsOptionsFromCli({
        tlsCert: path.join(dir, 'missing.pem'),
        tlsKey: path.join(dir, 'missing.pem'),
      }),
    ).rejects.toThrow(/^--tls-cert: cannot read .*missing\.pem/);
  });

  it('writes ca.pem, cert.pem and key.pem (mode 0600) that the emulator serves with', async () => {
    const lines: string[] = [];
    await createTlsCertificatesProgram(line => lines.push(line)).parseAsync(
      ['--out-dir', dir, '--host', 'localhost', '--host', '127.0.0.1,::1'],
      { from: 'user' },
    );
    const stat = await fs.stat(path.join(dir, 'key.pem'));
    expect(stat.mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(
      await fs.readFile(path.join(dir, 'cert.pem')),
    );
    expect(cert.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(lines.join('\n')).toContain(
      `NODE_EXTRA_CA_CERTS=${path.join(dir, 'ca.pem')}`,
    );
    expect(lines.join('\n')).toMatch(
      /--ignore-certificate-errors-spki-list=[A-Za-z0-9+/]{43}=/,
    );

    const tls = await tlsOptionsFromCli({
      tlsCert: path.join(dir, 'cert.pem'),
      tlsKey: path.join(dir, 'key.pem'),
    });
    const emulator = await startAccessEmulator({ port: 0, tls });
    try {
      const res = await get(
        `${emulator.url}/cdn-cgi/access/certs`,
        await fs.readFile(path.join(dir, 'ca.pem'), 'utf8'),
      );
      expect(res.status).toBe(200);
    } finally {
      await emulator.close();
    }
  });
});
