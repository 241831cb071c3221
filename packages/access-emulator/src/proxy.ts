/*
 * The reverse proxy to the origins: backend paths to the backend, everything
 * else to the frontend, as Access fronts a single hostname.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  createProxyMiddleware,
  type RequestHandler,
} from 'http-proxy-middleware';

export interface OriginProxyOptions {
  frontendUrl: string;
  backendUrl: string;
  /** Path prefixes routed to the backend, e.g. `/api/`. */
  backendPaths: string[];
  /** Rewrite the Host header to the target's (default false: keep the client's). */
  changeOrigin?: boolean;
}

export function isBackendPath(url: string, prefixes: string[]): boolean {
  const path = url.split('?')[0];
  return prefixes.some(
    prefix =>
      path.startsWith(prefix) ||
      (prefix.endsWith('/') && path === prefix.slice(0, -1)),
  );
}

export type OriginProxy = RequestHandler<IncomingMessage, ServerResponse> & {
  upgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void;
};

/**
 * Creates the proxy. `ws` is deliberately not enabled: with `ws: true`
 * http-proxy-middleware subscribes to the server's `upgrade` event by itself
 * and would forward websocket upgrades without the edge check. The server
 * calls `upgrade()` after authenticating instead.
 */
export function createOriginProxy(options: OriginProxyOptions): OriginProxy {
  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: options.frontendUrl,
    router: req =>
      isBackendPath(req.url ?? '/', options.backendPaths)
        ? options.backendUrl
        : options.frontendUrl,
    changeOrigin: options.changeOrigin ?? false,
    xfwd: false, // forwarding headers are set by the edge (see edge.ts)
    on: {
      error: (err, _req, resOrSocket) => {
        const message = `Bad gateway: the origin is unreachable (${
          (err as NodeJS.ErrnoException).code ?? err.message
        })`;
        if ('writeHead' in resOrSocket) {
          const res = resOrSocket as ServerResponse;
          if (!res.headersSent) {
            res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
          }
          res.end(message);
        } else {
          (resOrSocket as Socket).destroy();
        }
      },
    },
  });
  return proxy as OriginProxy;
}
