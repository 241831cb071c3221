/*
 * Grants: what a person allowed a client to do with this application, from the code exchange until the
 * grant session ends or the grant is revoked. A grant has one live refresh token at a time: each refresh
 * rotates it, and presenting a recently retired one again (a stolen token, or a replay) revokes the grant.
 */
import { randomUUID } from 'node:crypto';
import type { AccessTokenPayload } from '../tokens';
import { randomSecret, secretHash } from './secrets';

/** An application token as signInUser mints it. */
export interface ApplicationToken {
  token: string;
  payload: AccessTokenPayload;
}

export interface Grant {
  id: string;
  email: string;
  clientId: string;
  resource: string;
  /** Milliseconds since the epoch: the end of the grant session. */
  expiresAt: number;
  revoked: boolean;
  /** The person's application token the origin gets for this grant (minted at issue and refresh). */
  applicationToken: ApplicationToken;
}

export type GrantState = 'alive' | 'revoked' | 'session over';

interface RefreshTokenEntry {
  grantId: string;
  current: boolean;
}

/** The refresh-token hashes kept for a grant: the live one and the most recently retired ones. */
interface GrantHashes {
  current?: string;
  /** Oldest first, at most RETIRED_KEPT. */
  retired: string[];
}

export const MAX_GRANTS = 10_000;
/**
 * How many retired refresh tokens of a grant are still recognised (their reuse revokes the grant); an
 * older one is just unknown. Bounded, so a long-lived client refreshing often costs nothing more.
 */
export const RETIRED_KEPT = 16;
/** How long a revoked or ended grant is still recognised as such rather than as unknown. */
const REMEMBERED_MS = 60 * 60_000;

/** Refresh tokens carry Cloudflare's `oauth:` prefix; only a hash of the random part is kept. */
const newRefreshToken = () => `oauth:${randomSecret()}`;

export class GrantStore {
  readonly #grants = new Map<string, Grant>();
  readonly #refreshTokens = new Map<string, RefreshTokenEntry>();
  readonly #hashesOf = new Map<string, GrantHashes>();
  /** Grant ids by client id: whether a client has a live grant, without a scan of every grant. */
  readonly #byClient = new Map<string, Set<string>>();
  readonly #maxGrants: number;

  /** `maxGrants`: the cap (tests set a small one). */
  constructor(options: { maxGrants?: number } = {}) {
    this.#maxGrants = options.maxGrants ?? MAX_GRANTS;
  }

  /**
   * Whether a new grant can be made: at the cap, grants that are over (revoked or ended) are forgotten
   * to make room, but a live grant never is, so a store full of live grants has none.
   */
  hasRoom(now: number): boolean {
    this.#forgetOld(now);
    if (this.#grants.size < this.#maxGrants) {
      return true;
    }
    for (const grant of this.#grants.values()) {
      if (this.state(grant, now) !== 'alive') {
        this.#forget(grant.id);
        if (this.#grants.size < this.#maxGrants) {
          return true;
        }
      }
    }
    return false;
  }

  /** A new grant with its first refresh token; undefined when the store is full of live grants. */
  create(
    fields: Omit<Grant, 'id' | 'revoked'>,
    now: number,
  ): { grant: Grant; refreshToken: string } | undefined {
    if (!this.hasRoom(now)) {
      return undefined;
    }
    const grant: Grant = { ...fields, id: randomUUID(), revoked: false };
    this.#grants.set(grant.id, grant);
    this.#hashesOf.set(grant.id, { retired: [] });
    const ofClient = this.#byClient.get(grant.clientId) ?? new Set();
    this.#byClient.set(grant.clientId, ofClient.add(grant.id));
    return { grant, refreshToken: this.rotateRefreshToken(grant) };
  }

  get(id: unknown): Grant | undefined {
    return typeof id === 'string' ? this.#grants.get(id) : undefined;
  }

  state(grant: Grant, now: number): GrantState {
    if (grant.revoked) {
      return 'revoked';
    }
    return now >= grant.expiresAt ? 'session over' : 'alive';
  }

  /** Whether the client has a grant that is alive (such a client is never forgotten). */
  hasLiveGrant(clientId: string, now: number): boolean {
    for (const id of this.#byClient.get(clientId) ?? []) {
      const grant = this.#grants.get(id);
      if (grant && this.state(grant, now) === 'alive') {
        return true;
      }
    }
    return false;
  }

  /** The grant of a refresh token, and whether the token is its live one (false: already used). */
  findByRefreshToken(
    token: string,
  ): { grant: Grant; current: boolean } | undefined {
    const entry = this.#refreshTokens.get(secretHash(token));
    const grant = entry && this.#grants.get(entry.grantId);
    return entry && grant ? { grant, current: entry.current } : undefined;
  }

  /** A new live refresh token for the grant; the previous one is retired (its reuse revokes). */
  rotateRefreshToken(grant: Grant): string {
    const hashes = this.#hashesOf.get(grant.id) ?? { retired: [] };
    this.#hashesOf.set(grant.id, hashes);
    if (hashes.current !== undefined) {
      this.#refreshTokens.set(hashes.current, {
        grantId: grant.id,
        current: false,
      });
      hashes.retired.push(hashes.current);
      while (hashes.retired.length > RETIRED_KEPT) {
        this.#refreshTokens.delete(hashes.retired.shift()!);
      }
    }
    const token = newRefreshToken();
    hashes.current = secretHash(token);
    this.#refreshTokens.set(hashes.current, {
      grantId: grant.id,
      current: true,
    });
    return token;
  }

  /** How many refresh-token hashes the store keeps, live and retired (for tests: it stays bounded). */
  get refreshTokenHashCount(): number {
    return this.#refreshTokens.size;
  }

  /** How many grants the store holds, of any state. */
  get size(): number {
    return this.#grants.size;
  }

  revoke(grant: Grant): void {
    grant.revoked = true;
  }

  /** Revokes every grant; returns how many were still alive. */
  revokeAll(now: number): number {
    let alive = 0;
    for (const grant of this.#grants.values()) {
      alive += this.state(grant, now) === 'alive' ? 1 : 0;
      this.revoke(grant);
    }
    return alive;
  }

  #forget(grantId: string) {
    const hashes = this.#hashesOf.get(grantId);
    for (const hash of [
      ...(hashes?.retired ?? []),
      ...(hashes?.current ? [hashes.current] : []),
    ]) {
      this.#refreshTokens.delete(hash);
    }
    this.#hashesOf.delete(grantId);
    const grant = this.#grants.get(grantId);
    const ofClient = grant && this.#byClient.get(grant.clientId);
    ofClient?.delete(grantId);
    if (grant && ofClient?.size === 0) {
      this.#byClient.delete(grant.clientId);
    }
    this.#grants.delete(grantId);
  }

  #forgetOld(now: number) {
    for (const grant of this.#grants.values()) {
      if (now >= grant.expiresAt + REMEMBERED_MS) {
        this.#forget(grant.id);
      }
    }
  }
}
