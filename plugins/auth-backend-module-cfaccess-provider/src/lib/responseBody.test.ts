import { createServer, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import {
  discardBody,
  readBodyText,
  ResponseTooLargeError,
} from './responseBody';

// Real sockets on loopback, and Node's own fetch: msw's pass-through copies
// response bodies, which would hide whether a cancel reaches the socket.
// Backstage's jest setup blocks fetch unless something wrapped it; wrap it.
const blockingFetch = globalThis.fetch;

describe('response bodies', () => {
  let server: Server;
  let base: string;
  let handler: (res: ServerResponse, closed: Promise<void>) => void;

  beforeAll(async () => {
    globalThis.fetch = (input, init) => blockingFetch(input, init);
    server = createServer((_req, res) => {
      const closed = new Promise<void>(resolve => res.on('close', resolve));
      handler(res, closed);
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    globalThis.fetch = blockingFetch;
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
  });

  /** A body that never ends: 16 KB chunks until the client lets go. Resolves when it did. */
  function endless(status = 200) {
    let released!: Promise<void>;
    let sent = 0;
    handler = (res, closed) => {
      released = closed;
      res.writeHead(status, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16384, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {
          sent += chunk.length;
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    return { released: () => released, sent: () => sent };
  }

  it('reads a body within the limit', async () => {
    handler = res => res.end(JSON.stringify({ keys: [] }));
    const res = await fetch(base);
    await expect(readBodyText(res, 1024)).resolves.toBe('{"keys":[]}');
  });

  it('stops reading a streamed body past the limit and lets the connection go', async () => {
    const body = endless();
    const res = await fetch(base);
    await expect(readBodyText(res, 100_000)).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );
    await body.released();
    // Read little beyond the limit (what was in flight), not the endless rest.
    expect(body.sent()).toBeLessThan(10_000_000);
  });

  it('refuses a declared content-length over the limit without reading', async () => {
    let sent = false;
    handler = res => {
      res.writeHead(200, { 'content-length': 5_000_000 });
      res.write(Buffer.alloc(1000));
      sent = true;
    };
    const res = await fetch(base);
    await expect(readBodyText(res, 100_000)).rejects.toThrow(
      'larger than 100000 bytes',
    );
    expect(sent).toBe(true);
  });

  it('counts bytes after decompression, so a small gzip cannot expand past the limit', async () => {
    const big = gzipSync(Buffer.alloc(5_000_000, 'a'));
    handler = res => {
      res.writeHead(200, {
        'content-encoding': 'gzip',
        'content-length': big.length,
      });
      res.end(big);
    };
    const res = await fetch(base);
    expect(big.length).toBeLessThan(100_000);
    await expect(readBodyText(res, 100_000)).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );
  });

  it('discards a body it will not read, releasing the connection', async () => {
    const body = endless(500);
    const res = await fetch(base);
    expect(res.status).toBe(500);
    discardBody(res);
    await body.released();
  });
});
