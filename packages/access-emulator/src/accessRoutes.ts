/*
 * The /cdn-cgi/access/* endpoints: login (page and form POST), certs, get-identity and logout.
 */
import express, { type Request, type Response, Router } from 'express';
import type { EmulatorContext } from './context';
import { sessionCookie, setCookie } from './cookies';
import { COOKIE_NAME } from './defaults';
import { withDeviceFacts } from './deviceIdentity';
import { applyFaults } from './faults';
import { ownOrigins } from './hosts';
import { loginDeviceChoice } from './loginDevice';
import { renderLoginPage, renderSignedOutPage } from './loginPage';
import { oidcLoginPath } from './oidc/config';
import { LOGIN_PATH, safeRedirectPath } from './redirects';
import { loginIdentity, signInUser } from './signIn';
import type { EmulatorStats } from './stats';
import { isValidEmail, normalizeEmail } from './users';

export function allowedOrigins(req: Request, ctx: EmulatorContext): string[] {
  return ownOrigins(ctx.publicOrigin, req.headers.host);
}

export function noStore(res: Response) {
  res.setHeader('Cache-Control', 'no-store');
}

export function createAccessRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const count =
    (key: keyof EmulatorStats): express.RequestHandler =>
    (_req, _res, next) => {
      ctx.stats.count(key);
      next();
    };

  const showLogin = (
    req: Request,
    res: Response,
    status: number,
    redirectUrl: string,
    error?: string,
  ) => {
    noStore(res);
    // Not no-referrer: under it, browsers send `Origin: null` with the page's own form posts.
    res.set('Referrer-Policy', 'same-origin').status(status).type('html');
    res.send(
      renderLoginPage({
        users: ctx.users,
        redirectUrl,
        error,
        hostname: req.hostname,
        providers: [...ctx.identityProviders.values()].map(({ config }) => ({
          id: config.id,
          name: config.name,
        })),
        oneTimePin: ctx.oneTimePin,
        devices: {
          facts: email => ctx.devices.get(email),
          defaultCountry: ctx.country,
        },
      }),
    );
  };

  router.get(LOGIN_PATH, (req, res) => {
    const redirectUrl = safeRedirectPath(
      req.query.redirect_url,
      allowedOrigins(req, ctx),
    );
    const [only, ...others] = ctx.identityProviders.values();
    // "Apply instant authentication": one identity provider and nothing else to choose.
    if (ctx.instantAuth && !ctx.oneTimePin && only && others.length === 0) {
      noStore(res);
      res.redirect(302, oidcLoginPath(only.config.id, redirectUrl));
      return;
    }
    showLogin(req, res, 200, redirectUrl);
  });

  const form = express.urlencoded({ extended: false, limit: '16kb' });
  router.post(LOGIN_PATH, form, async (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const origins = allowedOrigins(req, ctx);
    const redirectUrl = safeRedirectPath(body.redirect_url, origins);
    // Login CSRF: browsers send Origin on every POST, `null` from sandboxed frames and data: URLs. No
    // Origin: not a browser, so no victim whose browser would get the cookie.
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.includes(origin)) {
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
      typeof body.email === 'string' ? normalizeEmail(body.email) : '';
    if (!isValidEmail(email)) {
      showLogin(req, res, 400, redirectUrl, 'Enter a valid email address.');
      return;
    }
    // The login page's device fieldset: WARP, country and posture checks for this sign-in and after.
    const choice = loginDeviceChoice(body, ctx.devices.get(email));
    if (choice.kind === 'invalid') {
      showLogin(req, res, 400, redirectUrl, choice.error);
      return;
    }
    try {
      if (choice.kind === 'patch') {
        ctx.devices.update(email, choice.patch);
      }
      const { token, payload } = await signInUser(ctx, email, {
        ip: req.socket.remoteAddress ?? '',
      });
      noStore(res);
      res.setHeader(
        'Set-Cookie',
        setCookie(ctx, COOKIE_NAME, token, payload.exp - payload.iat),
      );
      res.redirect(302, redirectUrl);
    } catch (error) {
      next(error);
    }
  });

  router.get(
    '/cdn-cgi/access/certs',
    count('certsRequests'),
    applyFaults(ctx.faults, 'certs'),
    (_req, res) => {
      noStore(res);
      res.json(ctx.keys.certsDocument());
    },
  );

  router.get(
    '/cdn-cgi/access/get-identity',
    count('identityRequests'),
    applyFaults(ctx.faults, 'identity'),
    async (req, res) => {
      noStore(res);
      const token = sessionCookie(req);
      const payload = token
        ? await ctx.tokens.verify(token).catch(() => undefined)
        : undefined;
      if (!token || !payload) {
        const err = token
          ? 'invalid or expired CF_Authorization'
          : 'no CF_Authorization cookie';
        res.status(401).json({ err });
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
        loginIdentity(ctx, payload.email, {
          iat: payload.iat,
          ip: req.socket.remoteAddress ?? '',
          country: payload.country ?? ctx.country,
        });
      // The device as it is now, not as it was at login: admin changes show in the next answer.
      res.json(
        withDeviceFacts(identity, ctx.devices.get(payload.email), Date.now()),
      );
    },
  );

  const logout: express.RequestHandler = (_req, res) => {
    noStore(res);
    res.setHeader('Set-Cookie', setCookie(ctx, COOKIE_NAME, '', 0));
    res.status(200).type('html').send(renderSignedOutPage());
  };
  router.get('/cdn-cgi/access/logout', logout);
  router.post('/cdn-cgi/access/logout', logout);
  return router;
}
