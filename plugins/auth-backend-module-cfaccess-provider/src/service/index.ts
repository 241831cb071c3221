/*
 * The one Cloudflare Access verifier per backend, shared by the sign-in
 * provider and the Access boundary, and the service plugins reach it through.
 */
export {
  cloudflareAccessServiceRef,
  type CloudflareAccessService,
} from './cloudflareAccessService';
export { accessHubFor, type AccessHub } from './accessHub';
