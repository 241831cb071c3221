/*
 * Authorization codes: random, single use, valid for 60 seconds, bound to the client, redirect URI, PKCE
 * challenge, resource and person they were issued for. A used code is remembered a while longer, so a
 * second use is recognised (and the grant it gave revoked, as OAuth 2.1 asks) rather than unknown.
 */
import { randomSecret, secretHash } from './secrets';

export const CODE_LIFETIME_MS = 60_000;
/** How long a used or expired code is still recognised. */
const REMEMBERED_MS = 10 * 60_000;
export const MAX_CODES = 10_000;

export interface CodeBinding {
  clientId: string;
  redirectUri: string;
  /** S256 challenge; undefined for a confidential client that sent none. */
  codeChallenge?: string;
  resource: string;
  email: string;
}

interface StoredCode extends CodeBinding {
  expiresAt: number;
  /** Set at the first exchange attempt: the id of the grant it gave, or '' when it gave none. */
  usedBy?: string;
}

export type CodeLookup =
  | { status: 'unknown' }
  | { status: 'reused'; grantId?: string }
  | { status: 'expired' }
  | { status: 'valid'; code: CodeBinding; recordGrant: (id: string) => void };

/** A code that can still be exchanged: unused and within its 60 seconds. */
const pending = (stored: StoredCode, now: number) =>
  stored.usedBy === undefined && now < stored.expiresAt;

export class AuthorizationCodes {
  /** By hash, oldest first. */
  readonly #codes = new Map<string, StoredCode>();
  /** Hashes by client id: whether a client has a pending code, without a scan of every code. */
  readonly #byClient = new Map<string, Set<string>>();
  readonly #maxCodes: number;

  /** `maxCodes`: the cap (tests set a small one). */
  constructor(options: { maxCodes?: number } = {}) {
    this.#maxCodes = options.maxCodes ?? MAX_CODES;
  }

  /**
   * A new code; undefined when the store is full of pending codes. At the cap, used and expired codes
   * (kept only to recognise a second use) are forgotten first, oldest first; a pending code never is.
   */
  issue(binding: CodeBinding, now: number): string | undefined {
    this.#forgetOld(now);
    if (this.#codes.size >= this.#maxCodes) {
      for (const [hash, stored] of this.#codes) {
        if (!pending(stored, now)) {
          this.#delete(hash);
          if (this.#codes.size < this.#maxCodes) {
            break;
          }
        }
      }
      if (this.#codes.size >= this.#maxCodes) {
        return undefined;
      }
    }
    const code = randomSecret();
    const hash = secretHash(code);
    this.#codes.set(hash, { ...binding, expiresAt: now + CODE_LIFETIME_MS });
    const ofClient = this.#byClient.get(binding.clientId) ?? new Set();
    this.#byClient.set(binding.clientId, ofClient.add(hash));
    return code;
  }

  /** Whether the client has a code that can still be exchanged (such a client is never forgotten). */
  hasPendingCode(clientId: string, now: number): boolean {
    for (const hash of this.#byClient.get(clientId) ?? []) {
      const stored = this.#codes.get(hash);
      if (stored && pending(stored, now)) {
        return true;
      }
    }
    return false;
  }

  /** Looks a code up and uses it up: whatever the exchange's outcome, a code works once. */
  take(code: string, now: number): CodeLookup {
    const stored = this.#codes.get(secretHash(code));
    if (!stored) {
      return { status: 'unknown' };
    }
    if (stored.usedBy !== undefined) {
      return { status: 'reused', grantId: stored.usedBy || undefined };
    }
    stored.usedBy = '';
    if (now >= stored.expiresAt) {
      return { status: 'expired' };
    }
    return {
      status: 'valid',
      code: stored,
      recordGrant: id => {
        stored.usedBy = id;
      },
    };
  }

  /** How many codes the store holds, pending or remembered. */
  get size(): number {
    return this.#codes.size;
  }

  #delete(hash: string) {
    const stored = this.#codes.get(hash);
    this.#codes.delete(hash);
    const ofClient = stored && this.#byClient.get(stored.clientId);
    ofClient?.delete(hash);
    if (stored && ofClient?.size === 0) {
      this.#byClient.delete(stored.clientId);
    }
  }

  #forgetOld(now: number) {
    for (const [hash, stored] of this.#codes) {
      if (now >= stored.expiresAt + REMEMBERED_MS) {
        this.#delete(hash);
      }
    }
  }
}
