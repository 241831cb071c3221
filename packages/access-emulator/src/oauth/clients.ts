/*
 * OAuth clients registered through Dynamic Client Registration (RFC 7591), kept in memory: a restart
 * forgets them and clients register again, as they do after an unknown client_id.
 */
import { randomUUID } from 'node:crypto';
import { matchesHash, randomSecret, secretHash } from './secrets';

export type TokenEndpointAuthMethod =
  | 'none'
  | 'client_secret_basic'
  | 'client_secret_post';

export type GrantType = 'authorization_code' | 'refresh_token';

export interface OAuthClient {
  clientId: string;
  /** Seconds since the epoch. */
  issuedAt: number;
  authMethod: TokenEndpointAuthMethod;
  redirectUris: string[];
  grantTypes: GrantType[];
  clientName?: string;
  /** Confidential clients only. */
  secretHash?: string;
}

/**
 * At most this many clients. Registration is open to anyone who reaches it, so at the cap the least
 * recently used client that is not in use is forgotten, and when every one is in use (a live grant or a
 * pending code) registration is refused: a flood of registrations never knocks out a working client.
 */
export const MAX_CLIENTS = 1000;

export interface ClientRegistryOptions {
  /** The cap (tests set a small one). */
  maxClients?: number;
  /** Whether a client is in use (a live grant or a pending code), so never to be forgotten. */
  inUse?: (clientId: string, now: number) => boolean;
}

export class ClientRegistry {
  /** Least recently used first: a lookup moves a client to the end. */
  readonly #clients = new Map<string, OAuthClient>();
  readonly #maxClients: number;
  readonly #inUse: (clientId: string, now: number) => boolean;

  constructor(options: ClientRegistryOptions = {}) {
    this.#maxClients = options.maxClients ?? MAX_CLIENTS;
    this.#inUse = options.inUse ?? (() => false);
  }

  /**
   * Registers a client; a confidential one gets a secret, returned once and kept only as a hash.
   * Undefined when the registry is full of clients in use.
   */
  register(
    metadata: Omit<OAuthClient, 'clientId' | 'issuedAt' | 'secretHash'>,
    now: number,
  ): { client: OAuthClient; secret?: string } | undefined {
    if (!this.#makeRoom(now)) {
      return undefined;
    }
    const secret = metadata.authMethod === 'none' ? undefined : randomSecret();
    const client: OAuthClient = {
      ...metadata,
      clientId: randomUUID(),
      issuedAt: Math.floor(now / 1000),
      ...(secret ? { secretHash: secretHash(secret) } : {}),
    };
    this.#clients.set(client.clientId, client);
    return { client, secret };
  }

  /** The client with this id, which now counts as the most recently used. */
  get(clientId: unknown): OAuthClient | undefined {
    const client =
      typeof clientId === 'string' ? this.#clients.get(clientId) : undefined;
    if (client) {
      this.#clients.delete(client.clientId);
      this.#clients.set(client.clientId, client);
    }
    return client;
  }

  /** How many clients are registered. */
  get size(): number {
    return this.#clients.size;
  }

  /** Constant-time check of a confidential client's secret. */
  secretMatches(client: OAuthClient, secret: string): boolean {
    return (
      client.secretHash !== undefined && matchesHash(secret, client.secretHash)
    );
  }

  /** Below the cap, or brought below it by forgetting the least recently used client not in use. */
  #makeRoom(now: number): boolean {
    if (this.#clients.size < this.#maxClients) {
      return true;
    }
    for (const clientId of this.#clients.keys()) {
      if (!this.#inUse(clientId, now)) {
        this.#clients.delete(clientId);
        if (this.#clients.size < this.#maxClients) {
          return true;
        }
      }
    }
    return false;
  }
}
