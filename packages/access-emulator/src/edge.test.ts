import http from 'node:http';
import request from 'supertest';
import { createProgram } from './cli';
import { ADMIN_HEADER } from './defaults';
import { hostnameOf, isLoopbackName } from './hosts';
import { type AccessEmulator, startAccessEmulator } from './server';
import {
  type TestOrigin,
  cookieFrom,
  startTestOrigin,
} from './__testUtils__/origins';
import { requestUpgrade } from './__testUtils__/upgrade';

// The edge's rules, on both paths that reach it: HTTP requests and WebSocket upgrades.
describe('the edge', () => {
  let frontend: TestOrigin;
  let backend: TestOrigin;
  let emulator: AccessEmulator;
  let token: string;

  beforeAll(async () => {
    frontend = await startTestOrigin('frontend');
    backend = await startTestOrigin('backend');
    emulator = await startAccessEmulator({
      port: 0,
      frontendUrl: frontend.url,
      backendUrl: backend.url,
    });
    token = await emulator.mintUserToken('alice@example.com');
  });

  afterAll(async () => {
    await emulator?.close();
    await frontend?.close();
    await backend?.close();
  });

  beforeEach(() => {
    backend.requests.length = 0;
    frontend.requests.length = 0;
    emulator.clearFaults();
  });

  describe('Host (DNS rebinding)', () => {
    it.each([
      (port: number) => `localhost:${port}`,
      (port: number) => `LOCALHOST:${port}`,
      (port: number) => `127.0.0.1:${port}`,
      (port: number) => `127.1.2.3:${port}`,
      (port: number) => `[::1]:${port}`,
      (port: number) => `backstage.localhost:${port}`,
      () => 'localhost',
      () => 'localhost:1', // another port: a port forward in front of the emulator
    ])('answers for a loopback name (%#)', async host => {
      const res = await request(emulator.listenUrl)
        .get('/cdn-cgi/access/login')
        .set('Host', host(emulator.port));
      expect(res.status).toBe(200);
    });

    it.each([
      'evil.example',
      'evil.example:7000',
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      '0.0.0.0',
      '10.0.0.5',
      'localhost@evil.example',
      'localhost/evil',
      '',
    ])('refuses Host %p with 421 on every path', async host => {
      const paths = [
        request(emulator.listenUrl).get('/cdn-cgi/access/login'),
        request(emulator.listenUrl)
          .post('/cdn-cgi/access/login')
          .type('form')
          .send({ email: 'alice@example.com', redirect_url: '/' }),
        request(emulator.listenUrl)
          .get('/cdn-cgi/access/get-identity')
          .set('Cookie', `CF_Authorization=${token}`),
        request(emulator.listenUrl)
          .get('/api/catalog')
          .set('Cookie', `CF_Authorization=${token}`),
        request(emulator.listenUrl).get('/cdn-cgi/access/certs'),
        request(emulator.listenUrl)
          .post('/cdn-cgi/emulator/rotate-keys')
          .set(ADMIN_HEADER, '1'),
      ];
      for (const req of paths) {
        const res = await req.set('Host', host);
        expect(res.status).toBe(421);
        expect(res.text).toContain('answers only for localhost:');
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      expect(backend.requests).toHaveLength(0);
    });

    const malformed = [
      'localhost:99999',
      'localhost:65536',
      '127.0.0.1:100000',
      '[::1]:99999',
      '[:::::]',
      '[::1',
      'localhost:',
      'localhost:7000:7000',
      'local host',
    ];

    it.each(malformed)(
      'refuses a malformed Host %p with 421 and the reason, never a 500',
      async host => {
        for (const req of [
          request(emulator.listenUrl).get('/cdn-cgi/access/login'),
          request(emulator.listenUrl)
            .post('/cdn-cgi/access/login')
            .set('Origin', emulator.url)
            .type('form')
            .send({ email: 'alice@example.com', redirect_url: '/' }),
          request(emulator.listenUrl).get('/cdn-cgi/access/oidc/x/login'),
          request(emulator.listenUrl)
            .get('/api/catalog')
            .set('Cookie', `CF_Authorization=${token}`),
        ]) {
          const res = await req.set('Host', host);
          expect(res.status).toBe(421);
          expect(res.text).toContain('answers only for localhost:');
          expect(res.headers['set-cookie']).toBeUndefined();
        }
        expect(backend.requests).toHaveLength(0);
      },
    );

    it.each(malformed)(
      'refuses an upgrade with a malformed Host %p',
      async host => {
        const res = await requestUpgrade(
          new URL('/api/events', emulator.listenUrl),
          { Host: host, Cookie: `CF_Authorization=${token}` },
        );
        expect(res.status).toBe(421);
        expect(backend.requests).toHaveLength(0);
      },
    );

    it('refuses an upgrade with a foreign Host', async () => {
      const res = await requestUpgrade(
        new URL('/api/events', emulator.listenUrl),
        { Host: 'evil.example', Cookie: `CF_Authorization=${token}` },
      );
      expect(res.status).toBe(421);
      expect(backend.requests).toHaveLength(0);
      const ok = await requestUpgrade(
        new URL('/api/events', emulator.listenUrl),
        { Cookie: `CF_Authorization=${token}` },
      );
      expect(ok.status).toBe(101);
    });

    it('answers for the public URL host, on any port, and still refuses others; --change-origin changes nothing', async () => {
      const other = await startAccessEmulator({
        port: 0,
        publicUrl: 'http://backstage.test:7000',
        backendUrl: backend.url,
        changeOrigin: true,
      });
      try {
        const cookie = `CF_Authorization=${await other.mintUserToken(
          'alice@example.com',
        )}`;
        for (const host of [
          'backstage.test:7000',
          'BACKSTAGE.test',
          'backstage.test:8443',
        ]) {
          const res = await request(other.listenUrl)
            .get('/api/me')
            .set('Host', host)
            .set('Cookie', cookie);
          expect(res.status).toBe(200);
        }
        const foreign = await request(other.listenUrl)
          .get('/api/me')
          .set('Host', 'evil.example')
          .set('Cookie', cookie);
        expect(foreign.status).toBe(421);
        expect(foreign.text).toContain('answers only for backstage.test:7000');
        expect(backend.requests).toHaveLength(3);
        // changeOrigin: the origin sees its own host, the client's stays in X-Forwarded-Host.
        expect(backend.requests[0].headers.host).toBe(
          new URL(backend.url).host,
        );
        expect(backend.requests[0].headers['x-forwarded-host']).toBe(
          'backstage.test:7000',
        );
      } finally {
        await other.close();
      }
    });
  });

  describe('admin endpoints (/cdn-cgi/emulator/)', () => {
    const faults = () =>
      request(emulator.listenUrl)
        .post('/cdn-cgi/emulator/faults')
        .send({ certsStatus: 503 });

    it('refuse a request without the admin header or a same-origin Origin', async () => {
      const res = await faults();
      expect(res.status).toBe(403);
      expect(res.body.err).toContain(ADMIN_HEADER);
      const rotate = await request(emulator.listenUrl).post(
        '/cdn-cgi/emulator/rotate-keys',
      );
      expect(rotate.status).toBe(403);
      const stats = await request(emulator.listenUrl).get(
        '/cdn-cgi/emulator/stats',
      );
      expect(stats.status).toBe(403);
      expect(emulator.getFaults()).toEqual({});
    });

    it.each([
      'https://evil.example',
      'null',
      'http://localhost:1',
      'https://localhost', // the same host over another scheme is another origin
    ])(
      'refuse a cross-origin Origin %p, even with the header',
      async origin => {
        const res = await faults().set('Origin', origin).set(ADMIN_HEADER, '1');
        expect(res.status).toBe(403);
        expect(res.body.err).toBe('cross-origin admin request refused');
        expect(emulator.getFaults()).toEqual({});
      },
    );

    it('refuse case and path variants just the same', async () => {
      for (const path of [
        '/CDN-CGI/emulator/faults',
        '/cdn-cgi/Emulator/faults',
      ]) {
        const res = await request(emulator.listenUrl)
          .post(path)
          .send({ certsStatus: 503 });
        expect(res.status).toBe(403);
      }
      expect(emulator.getFaults()).toEqual({});
    });

    it('answer with the admin header, or with the emulator origin (public or as requested) in Origin', async () => {
      expect((await faults().set(ADMIN_HEADER, '1')).status).toBe(200);
      expect(emulator.getFaults()).toEqual({ certsStatus: 503 });
      emulator.clearFaults();
      expect((await faults().set('Origin', emulator.url)).status).toBe(200);
      expect((await faults().set('Origin', emulator.listenUrl)).status).toBe(
        200,
      );
      expect(emulator.getFaults()).toEqual({ certsStatus: 503 });
    });

    it('take no upgrades, with or without the header', async () => {
      const url = new URL('/cdn-cgi/emulator/faults', emulator.listenUrl);
      expect((await requestUpgrade(url, {})).status).toBe(403);
      expect((await requestUpgrade(url, { [ADMIN_HEADER]: '1' })).status).toBe(
        404,
      );
      const access = new URL('/cdn-cgi/access/certs', emulator.listenUrl);
      expect((await requestUpgrade(access, {})).status).toBe(404);
    });
  });

  it('refuses a request target that is not a path', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = http.request(emulator.listenUrl, {
        path: `http://evil.example/cdn-cgi/emulator/stats`,
        headers: { [ADMIN_HEADER]: '1' },
      });
      req.on('response', r => {
        r.resume();
        resolve(r.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(res).toBe(400);
  });
});

describe('the listening interface', () => {
  it('refuses an interface beyond loopback without the dangerous flag', async () => {
    await expect(
      startAccessEmulator({ port: 0, host: '0.0.0.0' }),
    ).rejects.toThrow(
      'host: 0.0.0.0 is not a loopback address, so anyone on the network could sign in as any user',
    );
  });

  it('with dangerouslyAllowNetworkAccess, listens and warns that anyone on the network can sign in', async () => {
    const warn = jest
      .spyOn(process, 'emitWarning')
      .mockImplementation(() => {});
    const emulator = await startAccessEmulator({
      port: 0,
      host: '0.0.0.0',
      dangerouslyAllowNetworkAccess: true,
    });
    try {
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toContain(
        `listens on 0.0.0.0:${emulator.port}, beyond loopback: anyone who can reach this port can sign in as any user`,
      );
      const res = await request(emulator.listenUrl).get(
        '/cdn-cgi/access/certs',
      );
      expect(res.status).toBe(200);
    } finally {
      warn.mockRestore();
      await emulator.close();
    }
  });

  it('has the flag on the command line, off by default', () => {
    expect(
      createProgram().parse([], { from: 'user' }).opts()
        .dangerouslyAllowNetworkAccess,
    ).toBe(false);
    expect(
      createProgram()
        .parse(['--host', '0.0.0.0', '--dangerously-allow-network-access'], {
          from: 'user',
        })
        .opts().dangerouslyAllowNetworkAccess,
    ).toBe(true);
  });

  it('knows loopback names', () => {
    for (const name of [
      'localhost',
      'app.localhost',
      '127.0.0.1',
      '127.9.9.9',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
    ]) {
      expect([name, isLoopbackName(name)]).toEqual([name, true]);
    }
    for (const name of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      'localhost.evil',
      'evil-localhost',
      '::2',
      '128.0.0.1',
    ]) {
      expect([name, isLoopbackName(name)]).toEqual([name, false]);
    }
    expect(hostnameOf('[::1]:7000')).toBe('::1');
    expect(hostnameOf('Example.COM:80')).toBe('example.com');
    expect(hostnameOf('a b')).toBeUndefined();
    expect(hostnameOf(undefined)).toBeUndefined();
  });
});

it('a login through an allowed Host still works end to end', async () => {
  const backend = await startTestOrigin('backend');
  const emulator = await startAccessEmulator({
    port: 0,
    backendUrl: backend.url,
  });
  try {
    const login = await request(emulator.listenUrl)
      .post('/cdn-cgi/access/login')
      .set('Host', `localhost:${emulator.port}`)
      .set('Origin', emulator.url)
      .type('form')
      .send({ email: 'alice@example.com', redirect_url: '/api/me' });
    expect(login.status).toBe(302);
    const res = await request(emulator.listenUrl)
      .get('/api/me')
      .set(
        'Cookie',
        `CF_Authorization=${cookieFrom(login.headers['set-cookie'])}`,
      );
    expect(res.status).toBe(200);
  } finally {
    await emulator.close();
    await backend.close();
  }
});
