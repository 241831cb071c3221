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
import express, { type Request, Router } from 'express';
import { parseCookie, stringifySetCookie } from 'cookie';
import { allowedOrigins, noStore } from './accessRoutes';
import { type EmulatorContext, sessionSetCookie, signInUser } from './context';
import { renderLoginErrorPage } from './loginPage';
import { OIDC_CALLBACK_PATH, oidcLoginPath } from './oidcConfig';
import { safeEqual } from './edge';
import { OidcLoginError, asLoginError, idpError } from './oidcErrors';
import { PENDING_LOGIN_TTL_MS } from './pendingLogins';
import { LOGIN_PATH, safeRedirectPath } from './redirects';

/** Cookie naming the pending login (an opaque id; state, nonce and verifier stay server-side). */
export const PENDING_LOGIN_COOKIE = 'CF_Emulator_OIDC_Login';

function pendingCookie(ctx: EmulatorContext, value: string, maxAge: number) {
  return stringifySetCookie(PENDING_LOGIN_COOKIE, value, {
    httpOnly: true,
    sameSite: 'lax',
    path: OIDC_CALLBACK_PATH,
    secure: ctx.secureCookies,
    maxAge,
    ...(maxAge === 0 ? { expires: new Date(0) } : {}),
  });
}

function rawQuery(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at + 1);
}

function loginPageHref(redirectUrl: string) {
  return `${LOGIN_PATH}?redirect_url=${encodeURIComponent(redirectUrl)}`;
}

export function createOidcRoutes(ctx: EmulatorContext): Router {
  const router = Router();

  const fail = (
    res: express.Response,
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
      noStore(res);
      res
        .status(404)
        .type('html')
        .send(
          renderLoginErrorPage({
            title: 'Unknown identity provider',
            message: 'No identity provider with this id is configured.',
            retryHref: loginPageHref(redirectUrl),
          }),
        );
      return;
    }
    try {
      const { authorizationUrl, pending } = await provider.start(redirectUrl);
      const id = ctx.pendingLogins.add(pending);
      noStore(res);
      res.setHeader(
        'Set-Cookie',
        pendingCookie(ctx, id, Math.floor(PENDING_LOGIN_TTL_MS / 1000)),
      );
      res.redirect(302, authorizationUrl.href);
    } catch (error) {
      fail(
        res,
        asLoginError(
          error,
          'start',
          'Sign-in could not start',
          detail =>
            `Could not start the sign-in with ${provider.config.name} (${detail}).`,
        ),
        provider.config.id,
        oidcLoginPath(provider.config.id, redirectUrl),
      );
    }
  });

  router.get(OIDC_CALLBACK_PATH, async (req, res) => {
    // The pending login is single use: forget it and clear its cookie whatever happens next.
    res.setHeader('Set-Cookie', pendingCookie(ctx, '', 0));
    let id: string | undefined;
    try {
      id = parseCookie(req.headers.cookie ?? '')[PENDING_LOGIN_COOKIE];
    } catch {
      id = undefined;
    }
    const pending = ctx.pendingLogins.take(id);
    if (!pending) {
      fail(
        res,
        new OidcLoginError(
          400,
          'Sign-in expired',
          'This sign-in was not started in this browser, was already used, or took longer than 10 minutes. Start again.',
          'no pending login for this browser',
        ),
        '-',
        LOGIN_PATH,
      );
      return;
    }
    const retryHref = loginPageHref(pending.redirectUrl);
    const provider = ctx.identityProviders.get(pending.providerId);
    if (!provider) {
      fail(
        res,
        new OidcLoginError(
          400,
          'Unknown identity provider',
          'The identity provider of this sign-in is no longer configured.',
          'provider gone',
        ),
        pending.providerId,
        retryHref,
      );
      return;
    }
    const state = req.query.state;
    if (typeof state !== 'string' || !safeEqual(state, pending.state)) {
      fail(
        res,
        new OidcLoginError(
          400,
          'Sign-in refused',
          'The answer from the identity provider does not belong to the sign-in this browser started (state mismatch). Start again.',
          'state mismatch',
        ),
        pending.providerId,
        retryHref,
      );
      return;
    }
    if (req.query.error !== undefined) {
      fail(
        res,
        idpError(
          provider.config.name,
          req.query.error,
          req.query.error_description,
        ),
        pending.providerId,
        retryHref,
      );
      return;
    }
    try {
      const identity = await provider.finish(pending, rawQuery(req));
      const { token, payload } = await signInUser(ctx, identity.email, {
        ip: req.socket.remoteAddress ?? '',
        identity: {
          name: identity.name,
          groups: identity.groups,
          idp: { id: provider.config.idpUuid, type: 'oidc' },
          custom: identity.custom,
        },
      });
      ctx.log?.(
        `oidc ${provider.config.id}: signed in ${identity.email} (${identity.groups.length} groups)`,
      );
      noStore(res);
      res.setHeader('Set-Cookie', [
        pendingCookie(ctx, '', 0),
        sessionSetCookie(ctx, token, payload.exp - payload.iat),
      ]);
      res.redirect(302, pending.redirectUrl);
    } catch (error) {
      fail(
        res,
        asLoginError(
          error,
          'callback',
          'Sign-in failed',
          detail =>
            `The sign-in with ${provider.config.name} failed (${detail}). Try again.`,
        ),
        pending.providerId,
        retryHref,
      );
    }
  });

  return router;
}
