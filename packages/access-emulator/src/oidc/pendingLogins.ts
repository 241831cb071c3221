/*
 * Logins started at an OpenID Connect provider, waiting for the callback: what the emulator keeps
 * between sending the browser to the IdP and its return (state, nonce, PKCE verifier), by an opaque id.
 */
import { randomBytes } from 'node:crypto';

/** How long a started login may take at the IdP. */
export const PENDING_LOGIN_TTL_MS = 10 * 60_000;
const MAX_PENDING_LOGINS = 1000;

/** What the emulator keeps between sending the browser to the IdP and the callback. */
export interface PendingLogin {
  providerId: string;
  state: string;
  nonce: string;
  codeVerifier?: string;
  redirectUrl: string;
  expiresAt: number;
}

/**
 * Pending logins by an opaque id (the browser holds the id in an HttpOnly cookie), single use,
 * expiring, bounded.
 */
export class PendingLogins {
  readonly #byId = new Map<string, PendingLogin>();

  constructor(private readonly now: () => number = Date.now) {}

  add(login: Omit<PendingLogin, 'expiresAt'>): string {
    this.#sweep();
    const id = randomBytes(24).toString('base64url');
    const expiresAt = this.now() + PENDING_LOGIN_TTL_MS;
    this.#byId.set(id, { ...login, expiresAt });
    if (this.#byId.size > MAX_PENDING_LOGINS) {
      this.#byId.delete(this.#byId.keys().next().value as string);
    }
    return id;
  }

  /** Removes and returns the login, if it exists and has not expired. */
  take(id: string | undefined): PendingLogin | undefined {
    const login = id ? this.#byId.get(id) : undefined;
    this.#byId.delete(id ?? '');
    return login && login.expiresAt > this.now() ? login : undefined;
  }

  #sweep() {
    const now = this.now();
    for (const [id, login] of this.#byId) {
      if (login.expiresAt <= now) {
        this.#byId.delete(id);
      }
    }
  }
}
