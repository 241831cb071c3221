/**
 * The Cloudflare Access sign-in page for Backstage's new frontend system, as
 * a frontend module (alpha, like the system's extension APIs).
 *
 * @packageDocumentation
 */

export {
  cloudflareAccessSignInModule,
  createCloudflareAccessSignInModule,
  type CloudflareAccessSignInModuleOptions,
} from './alpha/cloudflareAccessSignInModule';
export { cloudflareAccessSignInModule as default } from './alpha/cloudflareAccessSignInModule';
