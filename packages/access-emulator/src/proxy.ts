/*
 * The reverse proxy to the origins: backend paths to the backend(s), everything
 * else to the frontend, as Access fronts a single hostname. Several backends
 * are balanced round-robin with passive health checks (see backendPool.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  createProxyMiddleware,
  type RequestHandler,
} from 'http-proxy-middleware';
import { BackendPool } from './backendPool';

export interface OriginProxyOptions {
  frontendUrl: string;
  /** One backend origin, or several balanced round-robin. */
  backendUrl: string | string[];
  /** Path prefixes routed to the backend, e.g. `/api/`. */
  backendPaths: string[];
  /** Rewrite the Host header to the target's (default false: keep the client's). */
  changeOrigin?: boolean;
  /** How long a backend whose connection failed is skipped. Default 5000 ms. */
  backendDownMs?: number;
  /** Called when a backend is marked down (for the request log). */
  onBackendDown?: (url: string, code: string) => void;
  /** For tests: clock in ms. */
  now?: () => number;
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

/** Connection failures that mark a backend down: it never answered. */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);

const RETRY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request may be sent again to another backend after a connection
 * failure: idempotent methods without a body only. A body has already been
 * piped into the failed connection, and a POST that reached a backend before
 * the reset may have been acted on.
 */
export function isRetryable(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (
    RETRY_METHODS.has(req.method ?? '') &&
    req.headers['transfer-encoding'] === undefined &&
    (length === undefined || Number(length) === 0)
  );
}

function originOf(target: unknown): string | undefined {
  const href =
    typeof target === 'string'
      ? target
      : (target as { href?: string } | undefined)?.href;
  try {
    return href ? new URL(href).origin : undefined;
  } catch {
    return undefined;
  }
}

function badGateway(resOrSocket: ServerResponse | Socket, code: string) {
  if (!('writeHead' in resOrSocket)) {
    resOrSocket.destroy();
    return;
  }
  const res = resOrSocket;
  if (res.headersSent) {
    // The response had started: cut it short rather than append to it.
    res.destroy();
    return;
  }
  res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`Bad gateway: the origin is unreachable (${code})`);
}

/**
 * Creates the proxy. `ws` is deliberately not enabled: with `ws: true`
 * http-proxy-middleware subscribes to the server's `upgrade` event by itself
 * and would forward websocket upgrades without the edge check. The server
 * calls `upgrade()` after authenticating instead.
 *
 * With several backends, each backend request goes to the next healthy one. A
 * backend whose connection fails before it answers (refused, reset) is marked
 * down for `backendDownMs`; a retryable request ({@link isRetryable}) is then
 * sent once more, to the next backend. Anything else answers 502.
 */
export function createOriginProxy(options: OriginProxyOptions): OriginProxy {
  const backendUrls = Array.isArray(options.backendUrl)
    ? options.backendUrl
    : [options.backendUrl];
  const pool = new BackendPool(backendUrls, {
    downMs: options.backendDownMs,
    now: options.now,
  });
  // The backends each backend request was sent to, in order; the last is current.
  const attempts = new WeakMap<IncomingMessage, string[]>();

  const pickBackend = (req: IncomingMessage) => {
    const tried = attempts.get(req) ?? [];
    const target = pool.next(new Set(tried)) ?? tried[tried.length - 1];
    attempts.set(req, [...tried, target]);
    return target;
  };

  const proxy: OriginProxy = createProxyMiddleware<
    IncomingMessage,
    ServerResponse
  >({
    target: options.frontendUrl,
    router: req =>
      isBackendPath(req.url ?? '/', options.backendPaths)
        ? pickBackend(req)
        : options.frontendUrl,
    changeOrigin: options.changeOrigin ?? false,
    xfwd: false, // forwarding headers are set by the edge (see edge.ts)
    on: {
      // Each origin request has its own connection (`Connection: close`); the client's connection is not
      // the origin's, so the origin's `Connection: close` must not close it (as at Cloudflare's edge).
      proxyRes: proxyRes => {
        delete proxyRes.headers.connection;
      },
      error: (err, req, resOrSocket, target) => {
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        const tried = attempts.get(req);
        const origin = originOf(target);
        if (!tried || origin === undefined) {
          badGateway(resOrSocket as ServerResponse | Socket, code);
          return;
        }
        if (origin !== tried[tried.length - 1]) {
          return; // a late error from an attempt already given up on
        }
        const headersSent =
          'writeHead' in resOrSocket && resOrSocket.headersSent;
        if (!CONNECTION_ERRORS.has(code) || headersSent) {
          badGateway(resOrSocket as ServerResponse | Socket, code);
          return;
        }
        pool.markDown(origin);
        options.onBackendDown?.(origin, code);
        const canRetry =
          tried.length === 1 &&
          'writeHead' in resOrSocket &&
          isRetryable(req) &&
          pool.urls.some(url => !tried.includes(url));
        if (!canRetry) {
          badGateway(resOrSocket as ServerResponse | Socket, code);
          return;
        }
        const res = resOrSocket as ServerResponse;
        proxy(req, res, (routeError?: unknown) =>
          badGateway(res, routeError ? String(routeError) : code),
        );
      },
    },
  }) as OriginProxy;
  return proxy;
}
