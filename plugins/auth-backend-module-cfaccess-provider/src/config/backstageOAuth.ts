/*
 * Backstage's own OAuth authorization server (plugin-auth-backend) and Cloudflare's Managed OAuth both answer
 * an agent's "how do I sign in?". With Backstage's on, the MCP actions plugin publishes OAuth metadata naming
 * Backstage's auth backend, which Access's Managed OAuth shadows or contradicts.
 */
import type { Config } from '@backstage/config';

/**
 * The settings that turn Backstage's own OAuth on, those of them that are on: dynamic client registration,
 * and Client ID Metadata Documents under their current key or, when that is absent, the experimental one
 * (as the auth backend and the MCP actions plugin read them).
 */
export function backstageOwnOAuthSettings(rootConfig: Config): string[] {
  const metadataDocuments = rootConfig.has('auth.clientIdMetadataDocuments')
    ? 'auth.clientIdMetadataDocuments.enabled'
    : 'auth.experimentalClientIdMetadataDocuments.enabled';
  return [
    'auth.experimentalDynamicClientRegistration.enabled',
    metadataDocuments,
  ].filter(key => rootConfig.getOptional(key) === true);
}

/** The warning for Managed OAuth and Backstage's own OAuth both on, or undefined. */
export function managedOAuthClashWarning(
  prefix: string,
  rootConfig: Config,
  managedOAuth: boolean,
): string | undefined {
  const own = backstageOwnOAuthSettings(rootConfig);
  if (!managedOAuth || own.length === 0) {
    return undefined;
  }
  return `${prefix}.managedOAuth says Cloudflare Access signs agents in (Managed OAuth), but Backstage's own OAuth is on too (${own.join(
    ', ',
  )}): Backstage then publishes OAuth metadata that sends MCP clients to its own auth backend, which Cloudflare advises against. Turn ${
    own.length > 1 ? 'them' : 'it'
  } off and let Access do the OAuth.`;
}
