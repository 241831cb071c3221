/*
 * Defaults shared by the programmatic API and the CLI.
 */

/** Fixed development Application Audience (AUD) tag: 64 hex characters, like a real one. */
export const DEFAULT_AUD =
  '3229737e86243ada50bcb70d1cfc20bf316b858f6080942aaf06157d8b01f667';

/** Fixed development account id (32 hex characters, like a Cloudflare account id). */
export const DEFAULT_ACCOUNT_ID = '4cb6712993b89e0e3d8fccee1a9d960b';

export const DEFAULT_PORT = 7000;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_FRONTEND_URL = 'http://localhost:3000';
export const DEFAULT_BACKEND_URL = 'http://localhost:7007';
export const DEFAULT_SESSION_DURATION = '24h';
export const DEFAULT_STATE_DIR = '.cfaccess-emulator';
/** Cloudflare's country code for "unknown". */
export const DEFAULT_COUNTRY = 'XX';
/** Path prefixes that are routed to the backend; everything else goes to the frontend. */
export const DEFAULT_BACKEND_PATHS = ['/api/', '/.backstage/'];

export const COOKIE_NAME = 'CF_Authorization';
export const ASSERTION_HEADER = 'cf-access-jwt-assertion';
/** Where scripts and `cloudflared access curl` send a user's application token instead of the cookie. */
export const ACCESS_TOKEN_HEADER = 'cf-access-token';
export const CLIENT_ID_HEADER = 'cf-access-client-id';
export const CLIENT_SECRET_HEADER = 'cf-access-client-secret';
export const EMAIL_HEADER = 'cf-access-authenticated-user-email';
/** Sent by callers of /cdn-cgi/emulator/ (any value): a header a cross-site page cannot send. */
export const ADMIN_HEADER = 'x-cfaccess-emulator-admin';
