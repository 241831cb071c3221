import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import { reasonStatus, rejectionHint, rejectionSentence } from '../errors';
import { errorText, logField, logValue, RateLimitedLogger } from '../lib';
import { accessHubFor, AccessHub } from '../service/accessHub';
import { BoundaryConfig } from './boundaryConfig';
import { BoundaryDecision, decide } from './boundaryDecision';
import { BoundaryMetrics } from './boundaryMetrics';

type Request = IncomingMessage & { path?: string };
type Next = (error?: unknown) => void;

const errorNames: Record<number, string> = {
  401: 'AuthenticationError',
  403: 'NotAllowedError',
  503: 'ServiceUnavailableError',
};

type Refusal = Pick<
  Extract<BoundaryDecision, { pass: false }>,
  'reason' | 'requirement'
>;

/**
 * Backstage's error body (as its error handler answers), with the reason
 * code and one sentence; a boundary rule's refusal also names the posture
 * check to pass (`requirement`), which the sign-in page and API clients show.
 */
function refusalBody({ reason, requirement }: Refusal, req: Request) {
  const statusCode = reasonStatus(reason);
  const check = requirement?.postureCheck;
  return {
    error: {
      name: errorNames[statusCode],
      message: `Cloudflare Access boundary refused the request (${reason}): ${rejectionSentence(
        reason,
      )}${check ? ` Posture check: ${JSON.stringify(check)}.` : ''}`,
      reason,
      ...(requirement && { requirement }),
    },
    request: { method: req.method, url: req.path },
    response: { statusCode },
  };
}

function sendRefusal(refusal: Refusal, req: Request, res: ServerResponse) {
  const body = refusalBody(refusal, req);
  res.statusCode = body.response.statusCode;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

export type BoundaryMiddlewareOptions = {
  config: BoundaryConfig;
  hub: AccessHub;
  logger: LoggerService;
  metrics?: BoundaryMetrics;
};

/**
 * The Access boundary as an Express middleware: each request decided by
 * `decide`, then passed (with the Access session's Backstage token where the
 * request had none), refused with the reason (`enforce`), or passed and
 * reported (`report`). Never throws: an unexpected failure refuses with 503
 * in `enforce` and passes in `report`, and is logged.
 */
export function createBoundaryMiddleware(options: BoundaryMiddlewareOptions) {
  const { config, hub } = options;
  const metrics = options.metrics ?? new BoundaryMetrics();
  const log = new RateLimitedLogger(options.logger);
  const enforce = config.mode === 'enforce';

  function logRefusal(
    req: Request,
    decision: Extract<BoundaryDecision, { pass: false }>,
  ) {
    const { reason, detail, subject } = decision;
    log.warn(
      `boundary:${reason}:${subject ?? ''}`,
      () =>
        `Cloudflare Access boundary ${
          enforce ? 'refused' : 'would refuse (report mode)'
        } ${req.method} ${logValue(req.path ?? '')} (${reason})${
          subject ? ` for ${logValue(subject)}` : ''
        }: ${logValue(detail)}; ${rejectionHint(reason)}`,
      () => ({
        reason,
        ...(subject && { subject: logField(subject) }),
        ...(req.socket?.remoteAddress && {
          remoteAddress: req.socket.remoteAddress,
        }),
      }),
    );
  }

  return function cloudflareAccessBoundary(
    req: Request,
    res: ServerResponse & { status?: unknown },
    next: Next,
  ): void {
    decide(req, config, hub).then(
      decision => {
        if (decision.pass) {
          if (decision.authorization) {
            req.headers.authorization = decision.authorization;
          }
          metrics.record('passed', decision.as);
          next();
          return;
        }
        logRefusal(req, decision);
        if (!enforce) {
          // As it would have passed: a rule's refusal keeps the session's token.
          if (decision.authorization) {
            req.headers.authorization = decision.authorization;
          }
          metrics.record('reported', decision.reason);
          next();
          return;
        }
        metrics.record('refused', decision.reason);
        sendRefusal(decision, req, res);
      },
      error => {
        options.logger.error(
          `Cloudflare Access boundary failed on ${req.method} ${logValue(
            req.path ?? '',
          )}: ${errorText(error)}`,
        );
        if (!enforce) {
          metrics.record('reported', 'boundary_unavailable');
          next();
          return;
        }
        metrics.record('refused', 'boundary_unavailable');
        sendRefusal({ reason: 'boundary_unavailable' }, req, res);
      },
    );
  };
}

/** The middleware for the backend whose root config this is. */
export function boundaryMiddlewareFor(options: {
  rootConfig: Config;
  config: BoundaryConfig;
  logger: LoggerService;
}) {
  return createBoundaryMiddleware({
    config: options.config,
    hub: accessHubFor(options.rootConfig),
    logger: options.logger,
  });
}
