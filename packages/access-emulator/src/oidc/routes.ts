/*
 * Login through an upstream OpenID Connect provider:
 *
 *   GET /cdn-cgi/access/oidc/<id>/login?redirect_url=...  -> 302 to the IdP's authorization endpoint
 *   GET /cdn-cgi/access/callback?code=...&state=...       -> CF_Authorization cookie, 302 to redirect_url
 *
 * state, nonce and the PKCE verifier stay on the server, keyed by a random id the browser holds in an
 * HttpOnly cookie scoped to the callback path: the callback only completes in the browser that started
 * the login, once, within 10 minutes. Every failure is an error page (4xx/5xx), never a crash.
 */
import { type Request, type Response, Router } from 'express';
import { allowedOrigins, noStore } from '../accessRoutes';
import type { EmulatorContext } from '../context';
import { sessionCookie, setCookie } from '../cookies';
import { COOKIE_NAME } from '../defaults';
import { safeEqual } from '../edge';
import { renderLoginErrorPage } from '../loginPage';
import {
  LOGIN_PATH,
  loginRedirectLocation,
  safeRedirectPath,
} from '../redirects';
import { signInUser } from '../signIn';
import { OIDC_CALLBACK_PATH, oidcLoginPath } from './config';
import { OidcLoginError, asLoginError, idpError } from './errors';
import { PENDING_LOGIN_TTL_MS } from './pendingLogins';

/** Cookie naming the pending login (an opaque id; state, nonce and verifier stay server-side). */
export const PENDING_LOGIN_COOKIE = 'CF_Emulator_OIDC_Login';

function rawQuery(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at + 1);
}

export function createOidcRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const pendingCookie = (value: string, maxAge: number) =>
    setCookie(ctx, PENDING_LOGIN_COOKIE, value, maxAge, OIDC_CALLBACK_PATH);

  const fail = (
    res: Response,
    error: OidcLoginError,
    providerId: string,
    retryHref: string,
  ) => {
    ctx.log?.(`oidc ${providerId}: sign-in failed: ${error.logReason}`);
    noStore(res);
    res
      .status(error.status)
      .type('html')
      .send(
        renderLoginErrorPage({
          title: error.title,
          message: error.message,
          retryHref,
        }),
      );
  };

  router.get('/cdn-cgi/access/oidc/:id/login', async (req, res) => {
    const redirectUrl = safeRedirectPath(
      req.query.redirect_url,
      allowedOrigins(req, ctx),
    );
    const provider = ctx.identityProviders.get(String(req.params.id));
    if (!provider) {
      const error = new OidcLoginError(
        404,
        'Unknown identity provider',
        'No identity provider with this id is configured.',
        'unknown provider',
      );
      fail(res, error, '-', loginRedirectLocation(redirectUrl));
      return;
    }
    const { id, name } = provider.config;
    try {
      const { authorizationUrl, pending } = await provider.start(redirectUrl);
      const maxAge = Math.floor(PENDING_LOGIN_TTL_MS / 1000);
      noStore(res);
      res.setHeader(
        'Set-Cookie',
        pendingCookie(ctx.pendingLogins.add(pending), maxAge),
      );
      res.redirect(302, authorizationUrl.href);
    } catch (error) {
      const message = (detail: string) =>
        `Could not start the sign-in with ${name} (${detail}).`;
      fail(
        res,
        asLoginError(error, 'start', 'Sign-in could not start', message),
        id,
        oidcLoginPath(id, redirectUrl),
      );
    }
  });

  router.get(OIDC_CALLBACK_PATH, async (req, res) => {
    // The pending login is single use: forget it and clear its cookie whatever happens next.
    res.setHeader('Set-Cookie', pendingCookie('', 0));
    const pending = ctx.pendingLogins.take(
      sessionCookie(req, PENDING_LOGIN_COOKIE),
    );
    const provider = pending && ctx.identityProviders.get(pending.providerId);
    try {
      if (!pending) {
        throw new OidcLoginError(
          400,
          'Sign-in expired',
          'This sign-in was not started in this browser, was already used, or took longer than 10 minutes. Start again.',
          'no pending login for this browser',
        );
      }
      if (!provider) {
        throw new OidcLoginError(
          400,
          'Unknown identity provider',
          'The identity provider of this sign-in is no longer configured.',
          'provider gone',
        );
      }
      const state = req.query.state;
      if (typeof state !== 'string' || !safeEqual(state, pending.state)) {
        throw new OidcLoginError(
          400,
          'Sign-in refused',
          'The answer from the identity provider does not belong to the sign-in this browser started (state mismatch). Start again.',
          'state mismatch',
        );
      }
      const { query } = req;
      if (query.error !== undefined) {
        throw idpError(
          provider.config.name,
          query.error,
          query.error_description,
        );
      }
      const identity = await provider.finish(pending, rawQuery(req));
      const { token, payload } = await signInUser(ctx, identity.email, {
        ip: req.socket.remoteAddress ?? '',
        identity: {
          ...identity,
          idp: { id: provider.config.idpUuid, type: 'oidc' },
        },
      });
      ctx.log?.(
        `oidc ${provider.config.id}: signed in ${identity.email} (${identity.groups.length} groups)`,
      );
      noStore(res);
      res.setHeader('Set-Cookie', [
        pendingCookie('', 0),
        setCookie(ctx, COOKIE_NAME, token, payload.exp - payload.iat),
      ]);
      res.redirect(302, pending.redirectUrl);
    } catch (error) {
      const message = (detail: string) =>
        `The sign-in with ${provider?.config.name} failed (${detail}). Try again.`;
      fail(
        res,
        asLoginError(error, 'callback', 'Sign-in failed', message),
        pending?.providerId ?? '-',
        pending ? loginRedirectLocation(pending.redirectUrl) : LOGIN_PATH,
      );
    }
  });

  return router;
}
