/**
 * Sign-in page for Backstage apps behind Cloudflare Access.
 *
 * @packageDocumentation
 */

export {
  CloudflareAccessSignInPage,
  type CloudflareAccessSignInPageProps,
} from './components/CloudflareAccessSignInPage';
export {
  DEFAULT_CLOUDFLARE_ACCESS_LOGOUT_URL,
  DEFAULT_CLOUDFLARE_ACCESS_PROVIDER_ID,
} from './lib/constants';
