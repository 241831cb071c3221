/**
 * Sign-in page for Backstage apps behind Cloudflare Access, and the advice
 * shown when Cloudflare Access checks refuse a request.
 *
 * @packageDocumentation
 */

export {
  CloudflareAccessSignInPage,
  type CloudflareAccessSignInPageProps,
} from './components/CloudflareAccessSignInPage';
export {
  CloudflareAccessRefusalPanel,
  type CloudflareAccessRefusalPanelProps,
} from './components/CloudflareAccessRefusalPanel';
export {
  DEFAULT_CLOUDFLARE_ACCESS_LOGOUT_URL,
  DEFAULT_CLOUDFLARE_ACCESS_PROVIDER_ID,
} from './lib/constants';
export {
  getCloudflareAccessRefusal,
  readCloudflareAccessRefusal,
  type CloudflareAccessRefusal,
  type CloudflareAccessRefusalReason,
  type CloudflareAccessRequirement,
} from './lib/refusal';
export {
  getCloudflareAccessAdvice,
  type CloudflareAccessAdvice,
} from './lib/advice';
export {
  cloudflareAccessErrorApiFactory,
  createCloudflareAccessErrorApi,
  type CloudflareAccessErrorApiOptions,
} from './apis/CloudflareAccessErrorApi';
