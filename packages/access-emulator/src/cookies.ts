/*
 * The cookies the emulator reads and sets: the CF_Authorization session, and the pending login of an
 * OpenID Connect sign-in.
 */
import type { IncomingMessage } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { EmulatorContext } from './context';
import { COOKIE_NAME } from './defaults';

/** A cookie of a request, if any (by default the CF_Authorization session). */
export function sessionCookie(
  req: IncomingMessage,
  name = COOKIE_NAME,
): string | undefined {
  try {
    return parseCookie(req.headers.cookie ?? '')[name] || undefined;
  } catch {
    return undefined;
  }
}

/** A `Set-Cookie` value (HttpOnly, SameSite=Lax, Secure for an https public URL); max age 0 clears it. */
export function setCookie(
  ctx: EmulatorContext,
  name: string,
  value: string,
  maxAge: number,
  path = '/',
): string {
  return stringifySetCookie(name, value, {
    httpOnly: true,
    sameSite: 'lax',
    path,
    secure: ctx.secureCookies,
    maxAge,
    ...(maxAge === 0 ? { expires: new Date(0) } : {}),
  });
}
