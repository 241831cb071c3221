/*
 * The /cdn-cgi/access/* endpoints: login (page + form POST), certs,
 * get-identity and logout.
 */
import express, { type Request, Router } from 'express';
import { stringifySetCookie } from 'cookie';
import { COOKIE_NAME } from './defaults';
import {
  type EmulatorContext,
  findUser,
  sessionSetCookie,
  signInUser,
} from './context';
import { applyFaults } from './faults';
import { buildIdentity } from './identities';
import { renderLoginPage, renderSignedOutPage } from './loginPage';
import { oidcLoginPath } from './oidcConfig';
import { ownOrigins } from './hosts';
import { safeRedirectPath } from './redirects';
import { sessionCookie } from './edge';
import type { EmulatorStats } from './stats';
import { isValidEmail } from './users';

export function allowedOrigins(req: Request, ctx: EmulatorContext): string[] {
  return ownOrigins(ctx.publicOrigin, req.headers.host);
}

function countRequest(
  ctx: EmulatorContext,
  key: keyof EmulatorStats,
): express.RequestHandler {
  return (_req, _res, next) => {
    ctx.stats.count(key);
    next();
  };
}

export function noStore(res: express.Response) {
  res.setHeader('Cache-Control', 'no-store');
}

export function createAccessRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  const showLogin = (
    req: Request,
    res: express.Response,
    status: number,
    redirectUrl: string,
    error?: string,
  ) => {
    noStore(res);
    res
      .set('Referrer-Policy', 'same-origin')
      .status(status)
      .type('html')
      .send(
        renderLoginPage({
          users: ctx.users,
          redirectUrl,
          error,
          hostname: req.hostname,
          providers: [...ctx.identityProviders.values()].map(p => ({
            id: p.config.id,
            name: p.config.name,
          })),
          oneTimePin: ctx.oneTimePin,
        }),
      );
  };

  router.get('/cdn-cgi/access/login', (req, res) => {
    const redirectUrl = safeRedirectPath(
      req.query.redirect_url,
      allowedOrigins(req, ctx),
    );
    // "Apply instant authentication": one identity provider and nothing else to choose.
    if (
      ctx.instantAuth &&
      !ctx.oneTimePin &&
      ctx.identityProviders.size === 1
    ) {
      const [only] = ctx.identityProviders.values();
      noStore(res);
      res.redirect(302, oidcLoginPath(only.config.id, redirectUrl));
      return;
    }
    showLogin(req, res, 200, redirectUrl);
  });

  router.post('/cdn-cgi/access/login', form, async (req, res, next) => {
    try {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const redirectUrl = safeRedirectPath(
        body.redirect_url,
        allowedOrigins(req, ctx),
      );
      // Login CSRF: browsers send Origin on every POST (`null` from sandboxed frames and data: URLs, and
      // from pages under no-referrer, which the login page is not). No Origin: not a browser, no CSRF.
      const origin = req.headers.origin;
      if (origin !== undefined && !allowedOrigins(req, ctx).includes(origin)) {
        res.status(403).type('text').send('Cross-origin sign-in refused');
        return;
      }
      if (!ctx.oneTimePin) {
        showLogin(
          req,
          res,
          403,
          redirectUrl,
          'Sign-in with an email address is turned off: use an identity provider.',
        );
        return;
      }
      const email =
        typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
      if (!isValidEmail(email)) {
        showLogin(req, res, 400, redirectUrl, 'Enter a valid email address.');
        return;
      }
      const { token, payload } = await signInUser(ctx, email, {
        ip: req.socket.remoteAddress ?? '',
      });
      noStore(res);
      res.setHeader(
        'Set-Cookie',
        sessionSetCookie(ctx, token, payload.exp - payload.iat),
      );
      res.redirect(302, redirectUrl);
    } catch (error) {
      next(error);
    }
  });

  router.get(
    '/cdn-cgi/access/certs',
    countRequest(ctx, 'certsRequests'),
    applyFaults(ctx.faults, 'certs'),
    (_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(ctx.keys.certsDocument());
    },
  );

  router.get(
    '/cdn-cgi/access/get-identity',
    countRequest(ctx, 'identityRequests'),
    applyFaults(ctx.faults, 'identity'),
    async (req, res) => {
      noStore(res);
      const token = sessionCookie(req);
      if (!token) {
        res.status(401).json({ err: 'no CF_Authorization cookie' });
        return;
      }
      let payload;
      try {
        payload = await ctx.tokens.verify(token);
      } catch {
        res.status(401).json({ err: 'invalid or expired CF_Authorization' });
        return;
      }
      if (!payload.email || !payload.identity_nonce) {
        res
          .status(401)
          .json({ err: 'the token has no identity (service token)' });
        return;
      }
      const identity =
        ctx.identities.get(payload.identity_nonce) ??
        // Not seen at login by this process (e.g. after a restart): rebuild it.
        buildIdentity({
          email: payload.email,
          user: findUser(ctx, payload.email),
          accountId: ctx.accountId,
          iat: payload.iat,
          ip: req.socket.remoteAddress ?? '',
          country: payload.country ?? ctx.country,
        });
      res.json(identity);
    },
  );

  const logout: express.RequestHandler = (_req, res) => {
    noStore(res);
    res.setHeader(
      'Set-Cookie',
      stringifySetCookie(COOKIE_NAME, '', {
        httpOnly: true,
        sameSite: 'lax',
        path: '/',
        secure: ctx.secureCookies,
        maxAge: 0,
        expires: new Date(0),
      }),
    );
    res.status(200).type('html').send(renderSignedOutPage());
  };
  router.get('/cdn-cgi/access/logout', logout);
  router.post('/cdn-cgi/access/logout', logout);

  return router;
}
