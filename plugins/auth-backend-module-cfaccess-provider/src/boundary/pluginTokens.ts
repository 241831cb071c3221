import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { tokenTypes } from '@backstage/plugin-auth-node';

/** Plugin ids as Backstage allows them in a plugin token's `sub`. */
const PLUGIN_ID = /^[a-z0-9_-]+$/i;

/** Where a plugin publishes the public keys of the tokens it issues. */
const PLUGIN_JWKS_PATH = '/.backstage/auth/v1/jwks.json';

export type VerifiedPluginToken = {
  /** `plugin:<id>` of the plugin that issued it. */
  subject: string;
  /** Set when the plugin calls on behalf of a user (the `obo` claim). */
  onBehalfOfUser: boolean;
  expiresAtMs: number;
};

/**
 * Verifies a Backstage plugin-to-plugin token the way the target plugin
 * will: typ `vnd.backstage.plugin`, signed by a key the issuing plugin
 * publishes, `aud` the plugin the request is for. The boundary sits in front
 * of every plugin, so it cannot use one plugin's auth service for this: that
 * only accepts tokens addressed to its own plugin.
 */
export class PluginTokenVerifier {
  // One remote key set per issuing plugin, bounded: a forged `sub` costs one
  // loopback request and evicts nothing that is in use often.
  private readonly keySets = new LRUCache<
    string,
    ReturnType<typeof createRemoteJWKSet>
  >({ max: 100 });

  constructor(
    private readonly baseUrlOf: (pluginId: string) => Promise<string>,
  ) {}

  async verify(
    token: string,
    targetPluginId: string,
  ): Promise<VerifiedPluginToken> {
    const issuer = String(decodeJwt(token).sub ?? '');
    if (!PLUGIN_ID.test(issuer)) {
      throw new Error('the plugin token names no valid issuing plugin');
    }
    let keySet = this.keySets.get(issuer);
    if (!keySet) {
      const url = new URL(`${await this.baseUrlOf(issuer)}${PLUGIN_JWKS_PATH}`);
      keySet = createRemoteJWKSet(url, { timeoutDuration: 5000 });
      this.keySets.set(issuer, keySet);
    }
    const { payload } = await jwtVerify(token, keySet, {
      typ: tokenTypes.plugin.typParam,
      audience: targetPluginId,
      requiredClaims: ['iat', 'exp', 'sub', 'aud'],
    });
    return {
      subject: `plugin:${payload.sub}`,
      onBehalfOfUser: payload.obo !== undefined,
      expiresAtMs: (payload.exp as number) * 1000,
    };
  }
}
