/*
 * Tiny local HTTP servers standing in for the Backstage frontend and backend,
 * recording what reaches them.
 */
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { listenClosable } from '../httpServer';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  upgrade?: boolean;
}

export interface TestOrigin {
  name: string;
  url: string;
  requests: RecordedRequest[];
  /** Resolves the pending /stream response's second chunk. */
  finishStream(): void;
  close(): Promise<void>;
}

export async function startTestOrigin(name: string): Promise<TestOrigin> {
  const requests: RecordedRequest[] = [];
  let finishStream = () => {};
  const { server, close } = await listenClosable(0, '127.0.0.1');
  server.on('request', (req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
    });
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      finishStream = () => res.end('second');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ origin: name, url: req.url }));
  });
  server.on('upgrade', (req, socket: Socket) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      upgrade: true,
    });
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    socket.write(`hello from ${name}`);
  });
  const { port } = server.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    requests,
    finishStream: () => finishStream(),
    close,
  };
}

/** Extracts the CF_Authorization value from Set-Cookie headers. */
export function cookieFrom(setCookie: string | string[] | undefined): string {
  const list = Array.isArray(setCookie) ? setCookie : [setCookie ?? ''];
  const line = list.find(c => c.startsWith('CF_Authorization='));
  if (!line) {
    throw new Error(
      `no CF_Authorization cookie in ${JSON.stringify(setCookie)}`,
    );
  }
  return line.split(';')[0].slice('CF_Authorization='.length);
}
