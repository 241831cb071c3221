import type {
  AuthService,
  BackstageNonePrincipal,
  BackstageServicePrincipal,
  BackstageUserPrincipal,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import { tokenTypes } from '@backstage/plugin-auth-node';
import { decodeProtectedHeader } from 'jose';
import { LRUCache } from 'lru-cache';
import { sha256 } from '../lib/sha256';
import { PluginTokenVerifier } from './pluginTokens';

/** Who a valid Backstage token says the caller is. */
export type BackstageCaller =
  /** A user token (or Backstage's limited cookie token): a person's session. */
  | { kind: 'user'; userEntityRef: string }
  /** A plugin calling another, on its own or on behalf of a user. */
  | { kind: 'plugin'; subject: string; onBehalfOfUser: boolean }
  /** A caller of `backend.auth.externalAccess`. */
  | { kind: 'external'; subject: string };

type Entry = { caller: BackstageCaller; expiresAtMs: number };

// Tokens without an expiry (static external access tokens) are checked again after this.
const NO_EXPIRY_RECHECK_MS = 5 * 60_000;

export type BackstageTokensOptions = {
  auth: Pick<AuthService, 'authenticate'>;
  pluginTokens: PluginTokenVerifier;
  maxEntries: number;
  /**
   * The static tokens of `backend.auth.externalAccess` and their subjects:
   * whom a static token restricted to other plugins names (see verify).
   */
  staticExternalSubjects?: ReadonlyMap<string, string>;
  now?: () => number;
};

/** The static tokens of `backend.auth.externalAccess`, each with its subject. */
export function staticExternalAccessSubjects(
  rootConfig: Config,
): Map<string, string> {
  const subjects = new Map<string, string>();
  const entries = rootConfig.getOptional('backend.auth.externalAccess');
  for (const entry of Array.isArray(entries) ? entries : []) {
    const { type, options } = (entry ?? {}) as {
      type?: unknown;
      options?: { token?: unknown; subject?: unknown };
    };
    if (
      type === 'static' &&
      typeof options?.token === 'string' &&
      typeof options.subject === 'string'
    ) {
      subjects.set(options.token, options.subject);
    }
  }
  return subjects;
}

/**
 * Checks Backstage tokens for the boundary: plugin tokens against the
 * issuing plugin's keys, everything else with the auth service (user tokens,
 * limited cookie tokens, `backend.auth.externalAccess`). Valid ones are
 * remembered by the SHA-256 of the token (and, for plugin tokens, the plugin
 * they are addressed to) until they expire; invalid ones never are.
 */
export class BackstageTokens {
  private readonly lru?: LRUCache<string, Entry>;
  private readonly now: () => number;

  constructor(private readonly options: BackstageTokensOptions) {
    this.now = options.now ?? Date.now;
    if (options.maxEntries > 0) {
      this.lru = new LRUCache({ max: options.maxEntries });
    }
  }

  /** The caller, or undefined when the token is not a valid Backstage token. */
  async check(
    token: string,
    targetPluginId: string | undefined,
    options: { allowLimited: boolean },
  ): Promise<BackstageCaller | undefined> {
    const key = `${sha256(token, 'base64url')}:${targetPluginId ?? ''}:${
      options.allowLimited ? 'l' : ''
    }`;
    const now = this.now();
    const hit = this.lru?.get(key);
    if (hit) {
      if (hit.expiresAtMs > now) {
        return hit.caller;
      }
      this.lru?.delete(key);
    }
    const entry = await this.verify(token, targetPluginId, options);
    if (entry && entry.expiresAtMs > now) {
      this.lru?.set(key, entry);
    }
    return entry?.caller;
  }

  private async verify(
    token: string,
    targetPluginId: string | undefined,
    options: { allowLimited: boolean },
  ): Promise<Entry | undefined> {
    let typ: unknown;
    try {
      typ = decodeProtectedHeader(token).typ;
    } catch {
      typ = undefined; // not a JWT: maybe a static external access token
    }
    try {
      if (typ === tokenTypes.plugin.typParam) {
        if (!targetPluginId) {
          return undefined; // a plugin token is only valid for a plugin's routes
        }
        const plugin = await this.options.pluginTokens.verify(
          token,
          targetPluginId,
        );
        return {
          caller: {
            kind: 'plugin',
            subject: plugin.subject,
            onBehalfOfUser: plugin.onBehalfOfUser,
          },
          expiresAtMs: plugin.expiresAtMs,
        };
      }
      const credentials = await this.options.auth.authenticate(token, {
        allowLimitedAccess: options.allowLimited,
      });
      const principal = credentials.principal as
        | BackstageUserPrincipal
        | BackstageServicePrincipal
        | BackstageNonePrincipal;
      const expiresAtMs =
        credentials.expiresAt?.getTime() ?? this.now() + NO_EXPIRY_RECHECK_MS;
      if (principal.type === 'user' && !principal.actor) {
        return {
          caller: { kind: 'user', userEntityRef: principal.userEntityRef },
          expiresAtMs,
        };
      }
      if (principal.type === 'service') {
        // Plugin tokens never get here (see above), and a static token's
        // subject is whatever the config says, so never a plugin.
        return {
          caller: { kind: 'external', subject: principal.subject },
          expiresAtMs,
        };
      }
      return undefined;
    } catch (error) {
      // A valid `backend.auth.externalAccess` token restricted to other
      // plugins than the auth backend, whose AuthService checks it here:
      // Backstage refuses it with NotAllowedError. The plugin the request is
      // for checks the restriction itself; the boundary must still know it
      // for an external caller (never replaced by the Access session's
      // token), and whom it names: a static token's subject from the config,
      // else none (so never one allowed without Access).
      if ((error as Error | undefined)?.name === 'NotAllowedError') {
        return {
          caller: {
            kind: 'external',
            subject: this.options.staticExternalSubjects?.get(token) ?? '',
          },
          expiresAtMs: this.now() + NO_EXPIRY_RECHECK_MS,
        };
      }
      return undefined;
    }
  }
}
