/*
 * The provider's settings: the table of settings and their defaults, the
 * reader with its team-domain rules, the startup check, and where a value
 * came from (file, environment variable) to explain a missing one.
 */
export {
  checkCloudflareAccessConfig,
  inspectCloudflareAccessConfig,
  type CheckCloudflareAccessConfigOptions,
  type InspectCloudflareAccessConfigOptions,
} from './checkConfig';
export { DEFAULT_PROVIDER_ID, providerConfigKey } from './providerId';
export {
  readCfAccessConfig,
  readDeploymentMode,
  type CfAccessConfig,
} from './readConfig';
