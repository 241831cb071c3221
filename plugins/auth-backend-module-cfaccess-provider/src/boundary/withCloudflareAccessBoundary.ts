import type { RootHttpRouterConfigureContext } from '@backstage/backend-defaults/rootHttpRouter';
import { readBoundaryConfig } from './boundaryConfig';
import { boundaryMiddlewareFor } from './boundaryMiddleware';
import { accessHubFor } from '../service/accessHub';
import { ruleSummary, ruleWarnings } from './rules/ruleSummary';

/**
 * Puts the Cloudflare Access boundary in front of every plugin route: the
 * configure option of rootHttpRouterServiceFactory (from
 * the rootHttpRouter entry point of Backstage's backend-defaults), as in
 * backend.add(rootHttpRouterServiceFactory(\{ configure:
 * withCloudflareAccessBoundary() \})).
 *
 * The boundary runs after Backstage's own middleware (security headers,
 * CORS, compression, the request log, rate limits, health checks) and right
 * before the plugin routes; it reads no body. With a `configure` of your own,
 * pass it in: the boundary goes right before the `app.use(routes)` it makes
 * (through `applyDefaults()` or directly); startup fails if it makes none.
 * Settings: `auth.providers.cfaccess.boundary` (`mode` enforce, report or
 * off; `exemptPaths`; `rules`, what requests to some paths must also meet:
 * device posture, WARP, country, identity provider, a person, a stricter
 * Access application).
 *
 * @public
 */
export function withCloudflareAccessBoundary(
  configure?: (context: RootHttpRouterConfigureContext) => void,
): (context: RootHttpRouterConfigureContext) => void {
  const configureRoutes =
    configure ?? ((ctx: RootHttpRouterConfigureContext) => ctx.applyDefaults());
  return context => {
    const config = readBoundaryConfig(context.config);
    if (config.mode === 'off') {
      context.logger.warn(
        'Cloudflare Access boundary is off (auth.providers.cfaccess.boundary.mode): requests reach the plugins without an Access check',
      );
      configureRoutes(context);
      return;
    }
    const logger = context.logger.child({ service: 'cfaccess-boundary' });
    for (const rule of config.rules.rules) {
      logger.info(`Cloudflare Access boundary rule ${ruleSummary(rule)}`);
      ruleWarnings(rule).forEach(warning => logger.warn(warning));
    }
    const middleware = boundaryMiddlewareFor({
      rootConfig: context.config,
      config,
      logger,
    });
    const { app, routes } = context;
    const use = app.use;
    let inserted = false;
    // Insert the boundary right before the plugin routes, wherever the
    // configure puts them, so Backstage's middleware before them still runs.
    app.use = function useWithBoundary(this: unknown, ...args: unknown[]) {
      if (!inserted && args.includes(routes)) {
        inserted = true;
        (use as (...a: unknown[]) => unknown).call(app, middleware);
      }
      return (use as (...a: unknown[]) => unknown).apply(app, args);
    } as typeof app.use;
    try {
      configureRoutes(context);
    } finally {
      app.use = use;
    }
    if (!inserted) {
      throw new Error(
        'The Cloudflare Access boundary found no plugin routes to go in front of: the configure passed to withCloudflareAccessBoundary must call applyDefaults() or app.use(routes)',
      );
    }
    const hub = accessHubFor(context.config);
    context.lifecycle.addStartupHook(() => {
      hub.startupFinished();
      if (!hub.ready) {
        logger.error(
          'Cloudflare Access boundary: no cfaccess sign-in provider was registered through cloudflareAccessServiceRef; every request except the exempt ones is refused with 503 boundary_unavailable. Add the cfaccess module, or register a custom provider with cloudflareAccessServiceRef.',
        );
      }
    });
    logger.info(
      `Cloudflare Access boundary in ${
        config.mode
      } mode in front of every plugin route${
        config.exemptPaths.size
          ? `, ${config.exemptPaths.size} exempt path(s)`
          : ''
      }`,
    );
  };
}
