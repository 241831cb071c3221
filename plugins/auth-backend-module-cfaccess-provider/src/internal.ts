/**
 * The package's internal entry: what its own tests (and suites in this
 * repository) need beyond the public API. Not exported from the package.
 */
export {
  authenticatorState,
  createAuthenticator,
  type AuthenticatorState,
  type AuthenticatorTestHooks,
} from './authenticator';
export { extractToken, readCookie } from './token';
export {
  inspectCloudflareAccessConfig,
  type InspectCloudflareAccessConfigOptions,
} from './config';
export { readBoundaryConfig } from './boundary/boundaryConfig';
export {
  applyAccessRules,
  type AccessCredential,
  type BoundaryDecision,
} from './boundary/boundaryDecision';
export { type AccessRules } from './boundary/rules/accessRules';
