/**
 * The id of the backend auth provider this page signs in with, i.e. the
 * `cfaccess` provider served at `/api/auth/cfaccess/refresh`.
 *
 * @public
 */
export const DEFAULT_CLOUDFLARE_ACCESS_PROVIDER_ID = 'cfaccess';

/**
 * The path on the application's own hostname that ends the Cloudflare Access
 * session for the application. Resolved against the current origin.
 *
 * @public
 */
export const DEFAULT_CLOUDFLARE_ACCESS_LOGOUT_URL = '/cdn-cgi/access/logout';
