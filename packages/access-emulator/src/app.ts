/*
 * The emulator's HTTP requests: the edge decides (edge.ts), then Access's endpoints, the admin
 * endpoints or the origins answer. One log line per request, never with a query string or a token.
 */
import type http from 'node:http';
import express from 'express';
import { createAccessRoutes } from './accessRoutes';
import { createAdminRoutes } from './adminRoutes';
import type { EmulatorContext } from './context';
import { type EdgeDecision, type Refusal, decideEdge } from './edge';
import { createOAuthRoutes } from './oauth/routes';
import { createOidcRoutes } from './oidc/routes';
import { applyOriginHeaders } from './originHeaders';
import type { OriginProxy } from './proxy';

function send(res: express.Response, { status, headers, body }: Refusal) {
  res.status(status).set(headers ?? {});
  if (body === undefined) {
    res.end();
  } else {
    res.type(typeof body === 'string' ? 'text' : 'json').send(body);
  }
}

export function createEmulatorApp(
  ctx: EmulatorContext,
  proxy: OriginProxy,
): express.Express {
  const log = ctx.log;
  // Runs a router; what no route answers is a 404 (never passed on to the origins).
  const within =
    (router: express.Router): express.RequestHandler =>
    (req, res, next) =>
      router(req, res, (error?: unknown) => {
        if (error && error !== 'router') {
          next(error);
        } else {
          res.status(404).type('text').send('Not found');
        }
      });
  const access = within(
    express
      .Router()
      .use(
        createAccessRoutes(ctx),
        createOidcRoutes(ctx),
        createOAuthRoutes(ctx),
      ),
  );
  const admin = within(createAdminRoutes(ctx));

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const callers = new WeakMap<http.IncomingMessage, string>();
  if (log) {
    app.use((req, res, next) => {
      const start = Date.now();
      res.once('finish', () => {
        const path = (req.originalUrl ?? req.url).split('?')[0];
        // A route may name the caller more precisely (the OAuth endpoints name a refusal's reason).
        const caller = res.locals.caller ?? callers.get(req) ?? '-';
        log(
          `${req.method} ${path} ${res.statusCode} ${
            Date.now() - start
          }ms ${caller}`,
        );
      });
      next();
    });
  }
  app.use(async (req, res, next) => {
    let decision: EdgeDecision;
    try {
      decision = await decideEdge(req, ctx);
    } catch (error) {
      next(error);
      return;
    }
    callers.set(req, decision.caller);
    switch (decision.kind) {
      case 'refused':
        send(res, decision.refusal);
        return;
      case 'access':
        access(req, res, next);
        return;
      case 'admin':
        admin(req, res, next);
        return;
      default:
        applyOriginHeaders(req, decision, ctx);
        proxy(req, res, next);
    }
  });
  app.use(
    (
      err: Error,
      _req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      log?.(`error: ${err.message}`);
      if (!res.headersSent) {
        res.status(500).type('text').send('Internal emulator error');
      } else {
        res.end();
      }
    },
  );
  return app;
}
