/*
 * startAccessEmulator: checks the options, then wires the keystore, token issuer, edge, routes and
 * proxy into one HTTP(S) server, and hands back its URLs and controls.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEmulatorApp } from './app';
import type { EmulatorContext } from './context';
import {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_BACKEND_PATHS,
  DEFAULT_COUNTRY,
} from './defaults';
import {
  type DevicePatch,
  DeviceStates,
  type PersonFacts,
} from './deviceStates';
import { FaultState, type Faults } from './faults';
import { createHostCheck } from './hosts';
import { listenClosable } from './httpServer';
import { IdentityStore } from './identities';
import { KeyStore } from './keys';
import { ManagedOAuth } from './oauth/managedOAuth';
import {
  AUTHORIZATION_SERVER_PATH,
  CLOUDFLARE_PROTECTED_RESOURCE_PATH,
} from './oauth/paths';
import {
  type IdentityProviderSummary,
  loginContext,
  summarizeProviders,
} from './loginMethods';
import {
  type AccessEmulatorOptions,
  networkExposureWarning,
  resolveOptions,
} from './options';
import { createOriginProxy } from './proxy';
import { LOGIN_PATH } from './redirects';
import { signInUser } from './signIn';
import { type EmulatorStats, RequestStats } from './stats';
import { type AccessTokenPayload, TokenIssuer } from './tokens';
import { createUpgradeHandler } from './upgrade';
import type { EmulatorUser } from './users';

export type { AccessEmulatorOptions } from './options';

/** Where an MCP client or agent finds this application's Managed OAuth. */
export interface ManagedOAuthInfo {
  /** `<url>/.well-known/oauth-authorization-server` (RFC 8414). */
  authorizationServerMetadataUrl: string;
  /** `<url>/.well-known/cloudflare-access-protected-resource`, where the 401 challenge points. */
  protectedResourceMetadataUrl: string;
  accessTokenLifetimeSeconds: number;
  grantSessionDurationSeconds: number;
}

export interface AccessEmulator {
  /** Public URL (origin) of the emulator, e.g. `http://localhost:7000` (`https://` with `tls`). */
  url: string;
  /** URL of the listening socket, e.g. `http://127.0.0.1:7000` (`https://` with `tls`). */
  listenUrl: string;
  port: number;
  /** The `iss` claim (the public origin). */
  issuer: string;
  certsUrl: string;
  loginUrl: string;
  audience: string[];
  users: EmulatorUser[];
  /** Upstream OpenID Connect providers offered on the login page. */
  identityProviders: IdentityProviderSummary[];
  /** The listening server: an `https.Server` with `tls`. */
  server: http.Server;
  close(): Promise<void>;
  rotateKeys(): Promise<{ kid: string; previousKid: string }>;
  setFaults(faults: Faults): void;
  clearFaults(): void;
  getFaults(): Faults;
  /** Counts of certs and get-identity requests since start (or the last reset). */
  stats(): EmulatorStats;
  resetStats(): void;
  /** A person's device facts now (country, idp, device), as get-identity reads them. */
  getDevice(email: string): PersonFacts;
  /**
   * Changes a person's device facts, as `PATCH /cdn-cgi/emulator/users/<email>/device` does: seen by
   * every session's next get-identity, and by tokens minted from then on. Throws for a bad patch.
   */
  updateDevice(email: string, patch: DevicePatch): PersonFacts;
  /** Back to the users file's device facts: one person, or everyone. */
  resetDevices(email?: string): void;
  /** Mints a person token as a login would (and records its identity). */
  mintUserToken(
    email: string,
    options?: { expiresInSeconds?: number },
  ): Promise<string>;
  /** Mints a service token application token for a Client ID. */
  mintServiceToken(clientId: string): Promise<string>;
  /** Verifies a token against the emulator's keys, issuer and audience. */
  verifyToken(token: string): Promise<AccessTokenPayload>;
  /** Managed OAuth's discovery URLs and lifetimes; undefined when it is off. */
  managedOAuth?: ManagedOAuthInfo;
  /**
   * Revokes every Managed OAuth grant, as `DELETE /cdn-cgi/emulator/oauth/grants` does: their access
   * and refresh tokens stop working. Returns how many were alive (0 when Managed OAuth is off).
   */
  revokeOAuthGrants(): number;
}

/** Starts an emulator. Resolves once it is listening. */
export async function startAccessEmulator(
  options: AccessEmulatorOptions = {},
): Promise<AccessEmulator> {
  const resolved = await resolveOptions(options);
  const faults = new FaultState();
  faults.set(options.faults ?? {});
  const keys = await KeyStore.open({ stateDir: options.stateDir });
  const { server, close } = await listenClosable(
    resolved.port,
    resolved.host,
    options.tls,
  );
  const { address, port } = server.address() as AddressInfo;
  if (resolved.networkExposed) {
    process.emitWarning(networkExposureWarning(resolved.host, port), {
      code: 'CFACCESS_EMULATOR_NETWORK',
    });
  }
  const scheme = options.tls ? 'https' : 'http';
  const publicOrigin = resolved.publicOrigin ?? `${scheme}://localhost:${port}`;
  const listenHost =
    address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  const listenUrl = `${scheme}://${
    listenHost.includes(':') ? `[${listenHost}]` : listenHost
  }:${port}`;

  const tokens = new TokenIssuer(keys, {
    issuer: publicOrigin,
    audience: resolved.audience,
    sessionDurationSeconds: resolved.sessionDurationSeconds,
  });
  const country = (options.country ?? DEFAULT_COUNTRY).toUpperCase();
  const ctx: EmulatorContext = {
    keys,
    tokens,
    identities: new IdentityStore(),
    devices: new DeviceStates(resolved.users, country),
    faults,
    stats: new RequestStats(),
    users: resolved.users,
    serviceTokens: resolved.serviceTokens,
    publicOrigin,
    allowedHost: createHostCheck(publicOrigin),
    secureCookies: publicOrigin.startsWith('https:'),
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    country,
    ...loginContext(resolved.loginMethods, publicOrigin),
    log: options.log,
    managedOAuth:
      resolved.managedOAuth &&
      new ManagedOAuth({
        settings: resolved.managedOAuth,
        keys,
        issuer: publicOrigin,
        audience: resolved.audience,
        // Never longer than a login's token either.
        signIn: (email, ip, expiresInSeconds) =>
          signInUser(ctx, email, {
            ip,
            expiresInSeconds: Math.min(
              expiresInSeconds,
              resolved.sessionDurationSeconds,
            ),
          }),
        verifyApplicationToken: token => tokens.verify(token),
      }),
  };
  const proxy = createOriginProxy({
    frontendUrl: resolved.frontendUrl,
    backendUrl: resolved.backendUrls,
    backendPaths: options.backendPaths ?? DEFAULT_BACKEND_PATHS,
    changeOrigin: options.changeOrigin,
    onBackendDown: (url, code) =>
      options.log?.(`backend ${url} marked down (${code})`),
  });
  server.on('request', createEmulatorApp(ctx, proxy));
  server.on('upgrade', createUpgradeHandler(ctx, proxy));

  return {
    url: publicOrigin,
    listenUrl,
    port,
    issuer: publicOrigin,
    certsUrl: `${publicOrigin}/cdn-cgi/access/certs`,
    loginUrl: `${publicOrigin}${LOGIN_PATH}`,
    audience: resolved.audience,
    users: ctx.users,
    identityProviders: summarizeProviders(resolved.loginMethods, publicOrigin),
    server,
    close,
    rotateKeys: () => keys.rotate(),
    setFaults: f => faults.set(f),
    clearFaults: () => faults.clear(),
    getFaults: () => faults.get(),
    stats: () => ctx.stats.get(),
    resetStats: () => ctx.stats.reset(),
    // Copies: changing what they return changes nothing.
    getDevice: email => structuredClone(ctx.devices.get(email)),
    updateDevice: (email, patch) =>
      structuredClone(ctx.devices.update(email, patch)),
    resetDevices: email => ctx.devices.reset(email),
    async mintUserToken(email, mintOptions = {}) {
      const { token } = await signInUser(ctx, email, {
        ip: '127.0.0.1',
        expiresInSeconds: mintOptions.expiresInSeconds,
      });
      return token;
    },
    async mintServiceToken(clientId) {
      return (await tokens.mintServiceToken(clientId)).token;
    },
    verifyToken: token => tokens.verify(token),
    managedOAuth: resolved.managedOAuth && {
      authorizationServerMetadataUrl: `${publicOrigin}${AUTHORIZATION_SERVER_PATH}`,
      protectedResourceMetadataUrl: `${publicOrigin}${CLOUDFLARE_PROTECTED_RESOURCE_PATH}`,
      accessTokenLifetimeSeconds:
        resolved.managedOAuth.accessTokenLifetimeSeconds,
      grantSessionDurationSeconds:
        resolved.managedOAuth.grantSessionDurationSeconds,
    },
    revokeOAuthGrants: () => ctx.managedOAuth?.revokeAllGrants() ?? 0,
  };
}
