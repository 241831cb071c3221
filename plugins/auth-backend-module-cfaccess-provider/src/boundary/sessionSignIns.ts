import type { BackstageSignInResult } from '@backstage/plugin-auth-node';
import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import type { VerifiedAccessToken } from '../token/tokenVerifier';

/** A sign-in of one Access session: the Backstage token it was issued. */
export type SessionSignIn = {
  token: string;
  /** What the resolver returned, for `/refresh` to answer with. */
  result: BackstageSignInResult;
  /** The user the token is for: the resolver's identity, else the token's `sub`. */
  userEntityRef: string;
  /** Seconds since epoch, from the Backstage token. */
  issuedAt: number;
  /** The earlier of the Backstage token's and the Access token's expiry, in seconds. */
  expiresAt: number;
};

/**
 * One Access session: a person's `sub` (or email) and `identity_nonce` (a
 * new login is a new nonce), or a service token's Client ID. Not the token
 * string: a service token caller may get a new assertion on every request.
 */
export function accessSessionKey(verified: VerifiedAccessToken): string {
  const { claims } = verified;
  const nonce = claims.identity_nonce ?? '';
  return verified.tokenType === 'service'
    ? `service\u0000${verified.clientId}\u0000${nonce}`
    : `user\u0000${claims.sub || claims.email}\u0000${nonce}`;
}

/** Who asks: the boundary needs any valid token, a refresh wants a fresh one. */
export type SignInPurpose = 'request' | 'refresh';

// A request may use a cached token while this much of it is left; a refresh
// gets it only while at least half its lifetime is left, so the frontend's
// next refresh comes well before it expires.
const MIN_REMAINING_SECONDS = 30;

/**
 * The Backstage sign-in of each Access session, shared by the sign-in route
 * and the boundary: one sign-in resolution per session, whichever asks
 * first, and one at a time per session (concurrent callers share it).
 * Failures are not remembered.
 */
export class SessionSignIns {
  private readonly lru?: LRUCache<string, SessionSignIn>;
  private readonly inFlight = new Map<string, Promise<SessionSignIn>>();

  constructor(
    maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    if (maxEntries > 0) {
      this.lru = new LRUCache({ max: maxEntries });
    }
  }

  /** The session's sign-in when one is cached and usable for a request. */
  known(key: string): SessionSignIn | undefined {
    const entry = this.lru?.get(key);
    return entry && this.usable(entry, 'request') ? entry : undefined;
  }

  async signIn(
    key: string,
    accessExpiresAt: number,
    purpose: SignInPurpose,
    resolve: () => Promise<BackstageSignInResult>,
  ): Promise<SessionSignIn> {
    const cached = this.lru?.get(key);
    if (cached && this.usable(cached, purpose)) {
      return cached;
    }
    const pending = this.inFlight.get(key);
    if (pending) {
      const shared = await pending;
      if (this.usable(shared, purpose)) {
        return shared;
      }
    }
    const started = resolve().then(result =>
      this.remember(key, result, accessExpiresAt),
    );
    this.inFlight.set(key, started);
    try {
      return await started;
    } finally {
      if (this.inFlight.get(key) === started) {
        this.inFlight.delete(key);
      }
    }
  }

  private remember(
    key: string,
    result: BackstageSignInResult,
    accessExpiresAt: number,
  ): SessionSignIn {
    const claims = decodeJwt(result.token);
    const issuedAt =
      typeof claims.iat === 'number'
        ? claims.iat
        : Math.floor(this.now() / 1000);
    const tokenExpiresAt =
      typeof claims.exp === 'number' ? claims.exp : issuedAt;
    const entry: SessionSignIn = {
      token: result.token,
      result,
      userEntityRef: result.identity?.userEntityRef ?? String(claims.sub ?? ''),
      issuedAt,
      expiresAt: Math.min(tokenExpiresAt, accessExpiresAt),
    };
    if (entry.userEntityRef && this.usable(entry, 'request')) {
      this.lru?.set(key, entry);
    }
    return entry;
  }

  private usable(entry: SessionSignIn, purpose: SignInPurpose): boolean {
    const now = this.now() / 1000;
    const left = entry.expiresAt - now;
    if (purpose === 'refresh') {
      return left >= (entry.expiresAt - entry.issuedAt) / 2;
    }
    return left >= MIN_REMAINING_SECONDS;
  }
}
