export {
  cloudflareAccessSignInModule,
  createCloudflareAccessSignInModule,
  type CloudflareAccessSignInModuleOptions,
} from './alpha/cloudflareAccessSignInModule';
export { cloudflareAccessSignInModule as default } from './alpha/cloudflareAccessSignInModule';
