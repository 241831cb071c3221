/*
 * The reverse proxy to the origins: backend paths to the backend(s), everything else to the frontend, as
 * Access fronts a single hostname. Several backends go round-robin with passive health checks.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  createProxyMiddleware,
  type RequestHandler,
} from 'http-proxy-middleware';
import { BackendPool } from './backendPool';

interface OriginProxyOptions {
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
const CONNECTION_ERRORS = new Set(
  'ECONNREFUSED ECONNRESET EPIPE EHOSTUNREACH ENETUNREACH ETIMEDOUT'.split(' '),
);

/**
 * Whether a request may go to another backend after a connection failure: idempotent methods without a
 * body only. A body has already gone into the failed connection, and a POST that reached a backend before
 * the reset may have been acted on.
 */
export function isRetryable(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (
    ['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? '') &&
    req.headers['transfer-encoding'] === undefined &&
    (length === undefined || Number(length) === 0)
  );
}

function originOf(target: unknown): string | undefined {
  const href =
    typeof target === 'string' ? target : (target as { href?: string })?.href;
  return href && URL.canParse(href) ? new URL(href).origin : undefined;
}

function badGateway(resOrSocket: ServerResponse | Socket, code: string) {
  // An upgrade's socket, or a response that had started: cut it short rather than append to it.
  if (!('writeHead' in resOrSocket) || resOrSocket.headersSent) {
    resOrSocket.destroy();
    return;
  }
  resOrSocket.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
  resOrSocket.end(`Bad gateway: the origin is unreachable (${code})`);
}

/**
 * Creates the proxy. Not with `ws: true`: http-proxy-middleware would then subscribe to the server's
 * `upgrade` event itself and forward upgrades without the edge check; the server calls `upgrade()`
 * after the edge instead.
 *
 * A backend whose connection fails before it answers (refused, reset) is marked down for
 * `backendDownMs`, and a retryable request ({@link isRetryable}) goes once more, to the next backend.
 * Anything else answers 502.
 */
export function createOriginProxy(options: OriginProxyOptions): OriginProxy {
  const pool = new BackendPool([options.backendUrl].flat(), {
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

  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: options.frontendUrl,
    router: req =>
      isBackendPath(req.url ?? '/', options.backendPaths)
        ? pickBackend(req)
        : options.frontendUrl,
    changeOrigin: options.changeOrigin ?? false,
    xfwd: false, // the edge sets the forwarding headers
    on: {
      // Each origin request has its own connection (`Connection: close`); the client's connection is not
      // the origin's, so the origin's `Connection: close` must not close it (as at Cloudflare's edge).
      proxyRes: (proxyRes, _req, res) => {
        delete proxyRes.headers.connection;
        // An origin that dies mid-response (a closed connection, not a reset) ends its response early
        // without an error, and http-proxy would leave the client's open forever: cut it short, as the
        // edge does when an origin goes away mid-body.
        proxyRes.once('close', () => {
          if (!proxyRes.complete) {
            res.destroy();
          }
        });
      },
      error: (err, req, resOrSocket, target) => {
        const out = resOrSocket as ServerResponse | Socket;
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        const tried = attempts.get(req);
        const origin = originOf(target);
        if (tried && origin && origin !== tried[tried.length - 1]) {
          return; // a late error from an attempt already given up on
        }
        const started = 'writeHead' in out && out.headersSent;
        if (!tried || !origin || !CONNECTION_ERRORS.has(code) || started) {
          badGateway(out, code);
          return;
        }
        pool.markDown(origin);
        options.onBackendDown?.(origin, code);
        if (
          tried.length !== 1 ||
          !('writeHead' in out) ||
          !isRetryable(req) ||
          pool.urls.every(url => tried.includes(url))
        ) {
          badGateway(out, code);
          return;
        }
        proxy(req, out, (routeError?: unknown) =>
          badGateway(out, routeError ? String(routeError) : code),
        );
      },
    },
  }) as OriginProxy;
  return proxy;
}
