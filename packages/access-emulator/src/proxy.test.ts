import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { BackendPool } from './backendPool';
import { createProgram } from './cli';
import { isRetryable } from './proxy';
import { type AccessEmulator, startAccessEmulator } from './server';
import { type TestOrigin, startTestOrigin } from './__testUtils__/origins';

describe('BackendPool', () => {
  it('goes round-robin, skips a backend marked down, and takes it back after the down period', () => {
    let now = 0;
    const pool = new BackendPool(['http://a', 'http://b', 'http://c'], {
      downMs: 1000,
      now: () => now,
    });
    expect([pool.next(), pool.next(), pool.next(), pool.next()]).toEqual([
      'http://a',
      'http://b',
      'http://c',
      'http://a',
    ]);
    pool.markDown('http://b');
    expect([pool.next(), pool.next(), pool.next()]).toEqual([
      'http://c',
      'http://a',
      'http://c',
    ]);
    now = 1000;
    expect(pool.isDown('http://b')).toBe(false);
    expect([pool.next(), pool.next()]).toEqual(['http://a', 'http://b']);
  });

  it('excludes backends already tried, and falls back to a down one when all are down', () => {
    const pool = new BackendPool(['http://a', 'http://b']);
    expect(pool.next(new Set(['http://a']))).toBe('http://b');
    expect(pool.next(new Set(['http://a', 'http://b']))).toBeUndefined();
    pool.markDown('http://a');
    pool.markDown('http://b');
    expect(pool.next()).toBeDefined();
  });

  it('needs at least one backend', () => {
    expect(() => new BackendPool([])).toThrow(/At least one/);
  });
});

describe('isRetryable', () => {
  const req = (method: string, headers: http.IncomingHttpHeaders = {}) =>
    ({ method, headers } as http.IncomingMessage);

  it('retries idempotent requests without a body only', () => {
    expect(isRetryable(req('GET'))).toBe(true);
    expect(isRetryable(req('HEAD'))).toBe(true);
    expect(isRetryable(req('OPTIONS', { 'content-length': '0' }))).toBe(true);
    expect(isRetryable(req('GET', { 'content-length': '5' }))).toBe(false);
    expect(isRetryable(req('GET', { 'transfer-encoding': 'chunked' }))).toBe(
      false,
    );
    expect(isRetryable(req('POST'))).toBe(false);
    expect(isRetryable(req('DELETE'))).toBe(false);
  });
});

describe('the CLI', () => {
  it('takes --backend-url more than once or comma-separated', () => {
    expect(createProgram().parse([], { from: 'user' }).opts().backendUrl).toBe(
      'http://localhost:7007',
    );
    const opts = createProgram()
      .parse(
        [
          '--backend-url',
          'http://127.0.0.1:7107',
          '--backend-url',
          'http://127.0.0.1:7207,http://127.0.0.1:7307',
        ],
        { from: 'user' },
      )
      .opts();
    expect(opts.backendUrl).toEqual([
      'http://127.0.0.1:7107',
      'http://127.0.0.1:7207',
      'http://127.0.0.1:7307',
    ]);
  });
});

/** An origin that accepts connections and resets them without answering. */
async function startResettingOrigin() {
  let connections = 0;
  const server = http.createServer();
  server.on('connection', socket => {
    connections += 1;
    socket.resetAndDestroy();
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  };
}

describe('round-robin over several backends', () => {
  let a: TestOrigin;
  let b: TestOrigin;
  let emulator: AccessEmulator;
  let cookie: string;
  const lines: string[] = [];

  beforeEach(async () => {
    lines.length = 0;
    a = await startTestOrigin('a');
    b = await startTestOrigin('b');
    emulator = await startAccessEmulator({
      port: 0,
      backendUrl: [a.url, b.url],
      log: line => lines.push(line),
    });
    cookie = `CF_Authorization=${await emulator.mintUserToken(
      'alice@example.com',
    )}`;
  });

  afterEach(async () => {
    await emulator.close();
    await a.close();
    await b.close();
  });

  const get = (path: string) =>
    request(emulator.listenUrl).get(path).set('Cookie', cookie);

  it('alternates between the backends, each request with the assertion', async () => {
    const origins: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await get(`/api/x/${i}`);
      expect(res.status).toBe(200);
      origins.push(res.body.origin);
    }
    expect(origins).toEqual(['a', 'b', 'a', 'b']);
    for (const r of [...a.requests, ...b.requests]) {
      expect(r.headers['cf-access-jwt-assertion']).toBeTruthy();
    }
  });

  it('retries a GET on the other backend when one is down, then skips the dead one', async () => {
    await a.close();
    const origins: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await get(`/api/x/${i}`);
      expect(res.status).toBe(200);
      origins.push(res.body.origin);
    }
    expect(origins).toEqual(['b', 'b', 'b', 'b', 'b', 'b']);
    expect(b.requests).toHaveLength(6);
    expect(
      lines.filter(l => l.startsWith(`backend ${a.url} marked down`)),
    ).toHaveLength(1);
  });

  it('does not retry a request with a body: 502, and the dead backend is skipped afterwards', async () => {
    await a.close();
    const res = await request(emulator.listenUrl)
      .post('/api/x')
      .set('Cookie', cookie)
      .send({ hello: 'world' });
    expect(res.status).toBe(502);
    expect(res.text).toMatch(/ECONNREFUSED/);
    expect(b.requests).toHaveLength(0);
    const next = await request(emulator.listenUrl)
      .post('/api/x')
      .set('Cookie', cookie)
      .send({ hello: 'again' });
    expect(next.status).toBe(200);
    expect(next.body.origin).toBe('b');
  });

  it('answers 502 when every backend is down', async () => {
    await a.close();
    await b.close();
    const res = await get('/api/x');
    expect(res.status).toBe(502);
  });
});

describe('a backend that resets connections', () => {
  it('retries a GET on the next backend', async () => {
    const reset = await startResettingOrigin();
    const good = await startTestOrigin('good');
    const emulator = await startAccessEmulator({
      port: 0,
      backendUrl: `${reset.url},${good.url}`,
    });
    try {
      const cookie = `CF_Authorization=${await emulator.mintUserToken(
        'alice@example.com',
      )}`;
      for (let i = 0; i < 3; i++) {
        const res = await request(emulator.listenUrl)
          .get('/api/x')
          .set('Cookie', cookie);
        expect(res.status).toBe(200);
        expect(res.body.origin).toBe('good');
      }
      expect(reset.connections()).toBe(1);
      expect(good.requests).toHaveLength(3);
    } finally {
      await emulator.close();
      await good.close();
      await reset.close();
    }
  });
});

describe('client connections', () => {
  it('stay open although each origin request closes its own connection', async () => {
    const origin = await startTestOrigin('origin');
    const emulator = await startAccessEmulator({
      port: 0,
      backendUrl: origin.url,
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const cookie = `CF_Authorization=${await emulator.mintUserToken(
        'alice@example.com',
      )}`;
      const ports = new Set<number>();
      for (let i = 0; i < 3; i++) {
        const { status, connection, port } = await new Promise<{
          status?: number;
          connection?: string;
          port?: number;
        }>((resolve, reject) => {
          const req = http.get(
            `${emulator.listenUrl}/api/x`,
            { agent, headers: { cookie } },
            res => {
              res.resume();
              res.on('end', () =>
                resolve({
                  status: res.statusCode,
                  connection: res.headers.connection,
                  port: req.socket?.localPort,
                }),
              );
            },
          );
          req.on('error', reject);
        });
        expect(status).toBe(200);
        expect(connection).toBe('keep-alive');
        ports.add(port!);
      }
      expect(ports.size).toBe(1);
      expect(origin.requests[0].headers.connection).toBe('close');
    } finally {
      agent.destroy();
      await emulator.close();
      await origin.close();
    }
  });
});

/**
 * An origin that sends its headers and the start of a body, then dies as a SIGKILLed process does: its
 * connection closed (FIN) or, with unread data, reset (RST).
 */
async function startOriginDyingMidResponse(how: 'close' | 'reset') {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"partial":');
    setTimeout(
      () =>
        how === 'close' ? res.socket?.destroy() : res.socket?.resetAndDestroy(),
      20,
    );
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  };
}

describe('an origin that dies mid-response', () => {
  it.each(['close', 'reset'] as const)(
    "cuts the client's response short instead of leaving it open (%s)",
    async how => {
      const origin = await startOriginDyingMidResponse(how);
      const emulator = await startAccessEmulator({
        port: 0,
        backendUrl: origin.url,
      });
      try {
        const cookie = `CF_Authorization=${await emulator.mintUserToken(
          'alice@example.com',
        )}`;
        const res = await fetch(`${emulator.listenUrl}/api/x`, {
          headers: { cookie },
          signal: AbortSignal.timeout(3000),
        });
        expect(res.status).toBe(200);
        // A cut connection ends the body read in an error; a response left open ends in the 3 s timeout.
        const error = await res.text().then(
          () => undefined,
          (e: Error) => e,
        );
        expect(error?.name).not.toBe('TimeoutError');
        expect(error?.message).toBe('terminated');
      } finally {
        await emulator.close();
        await origin.close();
      }
    },
  );
});
