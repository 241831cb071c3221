import type { IncomingMessage } from 'node:http';
import {
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import {
  AuthenticationError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  CloudflareAccessAuthenticationError,
  rejectionSentence,
} from '../errors';
import { readRequestCredentials } from '../boundary/requestCredentials';
import { accessHubFor } from '../service/accessHub';
import { accessContextOf, CloudflareAccessContext } from './accessContext';

/**
 * Options of {@link CloudflareAccessContextService.forRequest}.
 *
 * @public
 */
export type CloudflareAccessContextOptions = {
  /**
   * How old the identity's facts (groups, identity provider, WARP, device
   * posture) may be, in seconds: an older get-identity answer is fetched
   * again first (one fetch per session at a time, within
   * `identity.timeoutMs`). At least 1 (smaller values count as 1); not a
   * finite number: a TypeError. Without it, the cached answer, up to
   * `identity.cacheTtlSeconds` old.
   */
  maxIdentityAgeSeconds?: number;
};

/**
 * The verified Cloudflare Access context of a request, for backend code that
 * decides by it (see {@link CloudflareAccessContext}).
 *
 * @public
 */
export interface CloudflareAccessContextService {
  /**
   * The Access context of the request being served, or `undefined` when it
   * carries no Access application token: Backstage's own calls between
   * plugins, which come over loopback with a plugin token. Its Access token is
   * verified like at sign-in (the same key cache, verified-token cache and
   * identity cache); an invalid one rejects with
   * CloudflareAccessAuthenticationError (401), and a backend without the
   * cfaccess sign-in provider with a ServiceUnavailableError (503).
   */
  forRequest(
    req: IncomingMessage,
    options?: CloudflareAccessContextOptions,
  ): Promise<CloudflareAccessContext | undefined>;
}

/** Fresh fetches are asked for at most this often per session. */
const MIN_IDENTITY_AGE_SECONDS = 1;

/** The context service of the backend whose root config this is. */
export function accessContextServiceFor(
  rootConfig: Config,
): CloudflareAccessContextService {
  const hub = accessHubFor(rootConfig);
  return {
    async forRequest(req, options = {}) {
      const ready = (await hub.whenReady()) ? hub.ready : undefined;
      if (!ready) {
        throw new ServiceUnavailableError(
          'The Cloudflare Access context needs the cfaccess sign-in provider in this backend',
        );
      }
      const credentials = readRequestCredentials(req, ready.state.config);
      if (!credentials.ok) {
        throw credentials.reason === 'conflicting_tokens'
          ? new CloudflareAccessAuthenticationError(
              'conflicting_tokens',
              credentials.detail,
            )
          : new AuthenticationError(rejectionSentence(credentials.reason));
      }
      const token = credentials.accessToken;
      if (token === undefined) {
        return undefined;
      }
      const verified = await ready.state.verifier.verify(token);
      const { maxIdentityAgeSeconds } = options;
      if (
        maxIdentityAgeSeconds !== undefined &&
        !Number.isFinite(maxIdentityAgeSeconds)
      ) {
        throw new TypeError(
          `maxIdentityAgeSeconds must be a finite number of seconds, got ${maxIdentityAgeSeconds}`,
        );
      }
      const maxAgeMs =
        maxIdentityAgeSeconds === undefined
          ? undefined
          : Math.max(MIN_IDENTITY_AGE_SECONDS, maxIdentityAgeSeconds) * 1000;
      const identity = await hub.identityFor({ verified, token }, maxAgeMs);
      return accessContextOf(verified, identity);
    },
  };
}

/**
 * The {@link CloudflareAccessContextService} of a plugin; its default factory
 * needs no setup. The backend must have the cfaccess sign-in provider (the
 * module, or a custom module through cloudflareAccessServiceRef).
 *
 * @public
 */
export const cloudflareAccessContextServiceRef =
  createServiceRef<CloudflareAccessContextService>({
    id: 'cfaccess.context',
    scope: 'plugin',
    defaultFactory: async service =>
      createServiceFactory({
        service,
        deps: { rootConfig: coreServices.rootConfig },
        factory: ({ rootConfig }) => accessContextServiceFor(rootConfig),
      }),
  });
