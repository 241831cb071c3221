/**
 * The `cfaccess` command shipped with the Cloudflare Access module
 * (`cfaccess doctor`): explains why sign-in fails, with the module's own
 * config reader, verifier, key cache and identity client.
 *
 * @packageDocumentation
 */
export { runCfAccessCli } from './cli';
