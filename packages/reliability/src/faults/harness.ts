/*
 * Shared harness for the fault suites: a real Access emulator on port 0 and a real Backstage backend
 * (startTestBackend with @backstage/plugin-auth-backend and the cfaccess provider) pointed at it, plus a
 * logger that records what the auth plugin logs, so the suites can assert statuses, reason codes, log lines
 * and the emulator's request counts.
 */
import {
  coreServices,
  createBackendModule,
  createServiceFactory,
  LoggerService,
  RootLoggerService,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
  type SignInResolver,
} from '@backstage/plugin-auth-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  type AccessEmulator,
  type AccessEmulatorOptions,
  type EmulatorUser,
  startAccessEmulator,
} from '@cfaccess/access-emulator';
import cfaccessModule, {
  cloudflareAccessSignInResolvers,
  type CloudflareAccessResult,
} from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';
// The module's internal entry (not published, so not in the package's exports): the public authenticator
// plus test hooks, here the test clock.
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
import { createAuthenticator } from '../../../../plugins/auth-backend-module-cfaccess-provider/src/internal';
import type { JsonObject } from '@backstage/config';
import type { Server } from 'node:http';
import request from 'supertest';

/** Load users (`load01@example.com` … `load50@example.com`), all in the Access group `load-testers`. */
export const LOAD_USERS = Array.from(
  { length: 50 },
  (_, i) => `load${String(i + 1).padStart(2, '0')}@example.com`,
);

/** Access groups with stable ids, as identity providers such as Okta or Microsoft Entra ID report them. */
const ACCESS_GROUPS = {
  engineering: {
    id: '3d0f7a52-0c4e-4d7e-9a51-6f2b8f1c0e01',
    name: 'engineering',
  },
  admins: { id: '3d0f7a52-0c4e-4d7e-9a51-6f2b8f1c0e02', name: 'admins' },
  product: { id: '3d0f7a52-0c4e-4d7e-9a51-6f2b8f1c0e03', name: 'product' },
};

/** The people Access knows, with the groups get-identity reports for them. */
export const ACCESS_USERS: EmulatorUser[] = [
  {
    email: 'alice@example.com',
    name: 'Alice Example',
    groups: [ACCESS_GROUPS.engineering, ACCESS_GROUPS.admins],
  },
  {
    email: 'bob@example.com',
    name: 'Bob Builder',
    groups: [ACCESS_GROUPS.engineering],
  },
  {
    email: 'carol@example.com',
    name: 'Carol Danvers',
    groups: [ACCESS_GROUPS.product],
  },
  {
    email: 'dave@example.com',
    name: 'Dave Lister',
    groups: [ACCESS_GROUPS.product],
  },
  {
    email: 'erin@example.com',
    name: 'Erin Hale',
    groups: [ACCESS_GROUPS.engineering],
  },
  ...LOAD_USERS.map(email => ({
    email,
    name: `Load ${email.slice(4, 6)}`,
    groups: ['load-testers'],
  })),
];

const localPart = (email: string) => email.split('@')[0];

/**
 * The catalog: one User per Access user. Catalog group membership is deliberately different from the
 * Access groups (everyone is in `staff` only), so ownership shows whether Access groups were granted.
 */
const CATALOG_ENTITIES = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'staff', namespace: 'default' },
    spec: { type: 'team', children: [] },
  },
  ...ACCESS_USERS.map(user => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: localPart(user.email), namespace: 'default' },
    spec: { profile: { email: user.email }, memberOf: ['staff'] },
    relations: [{ type: 'memberOf', targetRef: 'group:default/staff' }],
  })),
];

/** A clock that runs with real time plus an offset the test moves forward. */
export class OffsetClock {
  offsetMs = 0;

  readonly now = () => Date.now() + this.offsetMs;

  advance(ms: number) {
    this.offsetMs += ms;
  }
}

export type LogRecord = {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  meta: JsonObject;
};

/** A root logger that keeps every line (with its child metadata) instead of printing it. */
export class LogRecorder {
  readonly records: LogRecord[] = [];

  logger(meta: JsonObject = {}): RootLoggerService {
    const log =
      (level: LogRecord['level']) =>
      (message: string, extra?: Error | JsonObject) => {
        const fields =
          extra instanceof Error
            ? { error: extra.message }
            : (extra as JsonObject | undefined) ?? {};
        this.records.push({ level, message, meta: { ...meta, ...fields } });
      };
    return {
      error: log('error'),
      warn: log('warn'),
      info: log('info'),
      debug: log('debug'),
      child: (childMeta: JsonObject): LoggerService =>
        this.logger({ ...meta, ...childMeta }),
    };
  }

  /** Warnings of the auth plugin whose message matches. */
  warnings(pattern: RegExp): LogRecord[] {
    return this.records.filter(
      r =>
        r.level === 'warn' &&
        r.meta.plugin === 'auth' &&
        pattern.test(r.message),
    );
  }

  /** Everything logged, as one string, to check that no token ever appears in it. */
  dump(): string {
    return this.records
      .map(r => `${r.message} ${JSON.stringify(r.meta)}`)
      .join('\n');
  }
}

/** What get-identity unavailable / stale keys look like in the log. */
export const STALE_KEYS_WARNING =
  /signing keys could not be refreshed .*; using keys fetched/;
export const IDENTITY_WARNING =
  /get-identity failed, continuing with the token/;

/**
 * `packaged`: the module as installed (`backend.add(import(...))`) with `emailMatchingUserEntityProfileEmail`.
 * `example`: the example app's pattern, `createCloudflareAccessAuthenticator` (through the module's internal
 * entry, which also takes the test clock) in a module of its own, with the library's
 * `signInWithCatalogUserAndAccessGroups`, as the example backend signs people in: mapped Access groups become
 * ownership, and while get-identity is unavailable the answer is 503 `identity_unavailable` (fail closed).
 * `testClock`: the same module with `emailMatchingUserEntityProfileEmail`, whose sign-ins do not depend on
 * get-identity, for suites about the signing keys that need the test clock.
 */
export type ProviderWiring = 'packaged' | 'example' | 'testClock';
export type FaultHarnessOptions = {
  wiring?: ProviderWiring;
  /** Not with the `packaged` wiring: the provider's clock (`testClock` unless another wiring is given). */
  clock?: OffsetClock;
  /** Extra `auth.providers.cfaccess` settings (jwks.*, identity.*). */
  provider?: JsonObject;
  /** Emulator options (faults, stateDir, port). */
  emulator?: AccessEmulatorOptions;
};

/** As in the example app, only mapped Access groups grant ownership, matched by their ids. */
const ACCESS_GROUP_MAPPING = Object.values(ACCESS_GROUPS).map(
  ({ id, name }) => ({
    id,
    entityRef: `group:default/${name}`,
  }),
);

function signInResolver(
  wiring: Exclude<ProviderWiring, 'packaged'>,
): SignInResolver<CloudflareAccessResult> {
  return wiring === 'example'
    ? cloudflareAccessSignInResolvers.signInWithCatalogUserAndAccessGroups({
        accessGroups: ACCESS_GROUP_MAPPING,
      })
    : cloudflareAccessSignInResolvers.emailMatchingUserEntityProfileEmail();
}

function ownProviderModule(
  wiring: Exclude<ProviderWiring, 'packaged'>,
  clock?: OffsetClock,
) {
  return createBackendModule({
    pluginId: 'auth',
    moduleId: 'reliability-cfaccess-provider',
    register(reg) {
      reg.registerInit({
        deps: {
          providers: authProvidersExtensionPoint,
          cache: coreServices.cache,
          logger: coreServices.logger,
          lifecycle: coreServices.lifecycle,
          rootConfig: coreServices.rootConfig,
        },
        async init({ providers, cache, logger, lifecycle, rootConfig }) {
          providers.registerProvider({
            providerId: 'cfaccess',
            factory: createProxyAuthProviderFactory({
              authenticator: createAuthenticator(
                { cache, logger, prefetchKeys: true, lifecycle, rootConfig },
                { now: clock?.now },
              ),
              signInResolver: signInResolver(wiring),
            }),
          });
        },
      });
    },
  });
}

export type FaultHarness = {
  emulator: AccessEmulator;
  server: Server;
  logs: LogRecorder;
  /** Mints a person's application token as an Access login would. */
  signIn(email: string): Promise<string>;
  /** `GET /api/auth/cfaccess/refresh` as Cloudflare forwards it: the token in the header or the cookie. */
  refresh(token: string, via?: 'header' | 'cookie'): Promise<request.Response>;
  /**
   * Closes the emulator, runs `whileDown`, then starts a new one on the same port (so the same issuer)
   * with the original options plus `options`.
   */
  restartEmulator(
    options?: AccessEmulatorOptions,
    whileDown?: () => Promise<void>,
  ): Promise<AccessEmulator>;
  /** True if any token minted through this harness appears in the captured logs. */
  tokenLogged(): boolean;
  stop(): Promise<void>;
};

export async function startFaultHarness(
  options: FaultHarnessOptions = {},
): Promise<FaultHarness> {
  const wiring = options.wiring ?? (options.clock ? 'testClock' : 'packaged');
  if (options.clock && wiring === 'packaged') {
    throw new Error('a test clock needs the example or testClock wiring');
  }
  const emulatorOptions: AccessEmulatorOptions = {
    port: 0,
    users: ACCESS_USERS,
    ...options.emulator,
  };
  let emulator = await startAccessEmulator(emulatorOptions);
  const logs = new LogRecorder();
  const tokens = new Set<string>();

  let backend;
  try {
    backend = await startTestBackend({
      features: [
        authPlugin,
        wiring === 'packaged'
          ? cfaccessModule
          : ownProviderModule(wiring, options.clock),
        catalogServiceMock.factory({ entities: CATALOG_ENTITIES }),
        createServiceFactory({
          service: coreServices.rootLogger,
          deps: {},
          factory: () => logs.logger(),
        }),
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            backend: { baseUrl: 'http://localhost:7007' },
            auth: {
              // The emulator on loopback is the team domain, as in development.
              environment: 'development',
              providers: {
                cfaccess: {
                  teamDomain: emulator.url,
                  audience: emulator.audience,
                  ...(wiring === 'packaged' && {
                    signIn: {
                      resolvers: [
                        { resolver: 'emailMatchingUserEntityProfileEmail' },
                      ],
                    },
                  }),
                  ...options.provider,
                },
              },
            },
          },
        }),
      ],
    });
  } catch (error) {
    await emulator.close();
    throw error;
  }
  const { server } = backend;

  return {
    get emulator() {
      return emulator;
    },
    server,
    logs,
    async signIn(email) {
      const token = await emulator.mintUserToken(email);
      tokens.add(token);
      return token;
    },
    refresh(token, via = 'header') {
      const req = request(server).get('/api/auth/cfaccess/refresh');
      return via === 'header'
        ? req.set('Cf-Access-Jwt-Assertion', token)
        : req.set('Cookie', `CF_Authorization=${token}`);
    },
    async restartEmulator(restartOptions = {}, whileDown) {
      const port = emulator.port;
      await emulator.close();
      await whileDown?.();
      emulator = await startAccessEmulator({
        ...emulatorOptions,
        ...restartOptions,
        port,
      });
      return emulator;
    },
    tokenLogged() {
      const dump = logs.dump();
      // The signature segment is unique per token; no part of a token belongs in a log.
      return [...tokens].some(t => dump.includes(t.split('.')[2]));
    },
    async stop() {
      await backend.stop();
      await emulator.close();
    },
  };
}

/** The reason code from a 401/503 body: `Cloudflare Access token rejected (<reason>): …`. */
export function reasonOf(res: request.Response): string | undefined {
  const error = res.body?.error;
  const message: unknown = error?.message;
  const fromMessage =
    typeof message === 'string'
      ? /token rejected \(([a-z_]+)\)/.exec(message)?.[1]
      : undefined;
  // The error body also carries the code as a field; both must agree.
  if (error?.reason !== undefined && error.reason !== fromMessage) {
    return `inconsistent: ${error.reason} / ${fromMessage}`;
  }
  return fromMessage;
}

export function ownershipOf(res: request.Response): string[] {
  return res.body?.backstageIdentity?.identity?.ownershipEntityRefs ?? [];
}

/** Waits in real time (the key cache's unknown-kid cooldown is at least 1 s). */
export function sleep(ms: number) {
  return new Promise(resolve => setTimeout(resolve, ms));
}
