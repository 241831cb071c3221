/*
 * The Access boundary: the module's verifier in front of every plugin route,
 * with binding (a Backstage user token must be the Access session's) and
 * in-process sign-in for callers that bring only an Access token.
 */
export { withCloudflareAccessBoundary } from './withCloudflareAccessBoundary';
export { readBoundaryConfig, type BoundaryConfig } from './boundaryConfig';
