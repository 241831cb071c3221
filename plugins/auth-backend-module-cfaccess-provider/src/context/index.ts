/*
 * The Access context of a request: who, from where, on which device, and how
 * old each fact is, for backend code and the boundary's rules.
 */
export { type CloudflareAccessContext } from './accessContext';
export {
  cloudflareAccessContextServiceRef,
  type CloudflareAccessContextOptions,
  type CloudflareAccessContextService,
} from './accessContextService';
