/**
 * The Cloudflare Access sign-in page, and the advice shown for requests
 * Cloudflare Access checks refused, for Backstage's new frontend system, as
 * frontend modules (alpha, like the system's extension APIs).
 *
 * @packageDocumentation
 */

export {
  cloudflareAccessSignInModule,
  createCloudflareAccessSignInModule,
  type CloudflareAccessSignInModuleOptions,
} from './alpha/cloudflareAccessSignInModule';
export { cloudflareAccessRefusalAdviceModule } from './alpha/cloudflareAccessRefusalAdviceModule';
export { cloudflareAccessSignInModule as default } from './alpha/cloudflareAccessSignInModule';
