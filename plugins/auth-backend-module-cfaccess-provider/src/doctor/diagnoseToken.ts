/*
 * Verifies a token exactly as the backend does, through the module's own
 * authenticator (its TokenVerifier, KeyCache and IdentityClient, built from
 * the same config), and says in plain words why it is rejected, or who it
 * signs in and what get-identity returns. With a catalog, the module's
 * sign-in resolvers are run as the provider runs them.
 */
import type {
  CacheService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import { createAuthenticator } from '../authenticator';
import { providerConfigKey } from '../config/providerId';
import type { CfAccessConfig } from '../config/readConfig';
import {
  CloudflareAccessRejectionReason,
  isCloudflareAccessRejection,
  rejectionHint,
  rejectionSentence,
} from '../errors';
import {
  moduleSignInResolverFactories,
  readSignInResolverChain,
} from '../signIn/resolverConfig';
import type { CloudflareAccessResult } from '../types';
import { createCatalogResolverContext } from './catalogResolverContext';
import { decodeToken, DecodedToken } from './tokenClaims';
import { durationText } from './timeText';

export type IdentityOutcome =
  | {
      status: 'ok';
      name: string;
      email: string;
      groups: string[];
      idp?: { id: string; type: string };
    }
  | { status: 'unavailable'; message: string }
  | { status: 'disabled' | 'not-applicable' };

export type ResolveOutcome =
  | {
      status: 'signed-in';
      resolver: string;
      entityRef: string;
      ownershipEntityRefs: string[];
    }
  | { status: 'not-signed-in'; message: string; reason?: string }
  | { status: 'skipped'; message: string };

export type TokenDiagnosis = DecodedToken & {
  accepted: boolean;
  /** The reason code and the module's texts, when rejected. */
  reason?: CloudflareAccessRejectionReason;
  sentence?: string;
  detail?: string;
  hint?: string;
  /** The reason in plain words, from the claims and the config. */
  explanation: string[];
  tokenType?: 'user' | 'service';
  /** Who it signs in: the email, or the service token's Client ID and subject. */
  subject?: string;
  expiresIn?: string;
  identity?: IdentityOutcome;
  resolve: ResolveOutcome;
};

export type DiagnoseTokenOptions = {
  token: string;
  /** The id the provider is registered under; its config is `auth.providers.<providerId>`. */
  providerId: string;
  /** The root config (for auth.environment) and the provider's config. */
  rootConfig: Config;
  providerConfig: Config;
  config: CfAccessConfig;
  /** The kids the team's certs publish, from the team domain check. */
  teamKids?: string[];
  /** Run the sign-in resolvers against the catalog at this backend. */
  resolve?: { backendUrl?: string; backendToken?: string };
  now?: () => number;
  fetch?: typeof fetch;
};

/** A one-shot run caches nothing: every get-identity is asked afresh. */
const noCache: CacheService = {
  async get() {
    return undefined;
  },
  async set() {},
  async delete() {},
  withOptions() {
    return noCache;
  },
};

/** Keeps what the module would log (never a token), to tell why get-identity failed. */
function captureLogger(lines: string[]): LoggerService {
  const logger: LoggerService = {
    error: message => lines.push(message),
    warn: message => lines.push(message),
    info() {},
    debug() {},
    child: () => logger,
  };
  return logger;
}

function explain(
  reason: CloudflareAccessRejectionReason,
  decoded: DecodedToken,
  options: DiagnoseTokenOptions,
  nowMs: number,
): string[] {
  const { claims, header } = decoded;
  const { config } = options;
  switch (reason) {
    case 'expired':
      return claims.exp
        ? [
            `the token expired ${durationText(
              nowMs / 1000 - claims.exp.seconds,
            )} ago (exp ${claims.exp.iso}), beyond the clock tolerance of ${
              config.clockToleranceSeconds
            } s: sign in again through Cloudflare Access (or get a new one with cloudflared access token)`,
          ]
        : [];
    case 'not_yet_valid':
      return claims.nbf
        ? [
            `the token is valid from ${claims.nbf.iso}, ${durationText(
              claims.nbf.seconds - nowMs / 1000,
            )} from now by this machine's clock, beyond the clock tolerance of ${
              config.clockToleranceSeconds
            } s: this machine's clock is probably behind`,
          ]
        : [];
    case 'wrong_audience':
      return [
        `the token carries the AUD tag${claims.aud.length === 1 ? '' : 's'} ${
          claims.aud.join(', ') || '(none)'
        }`,
        `${providerConfigKey(
          options.providerId,
        )}.audience is ${config.audiences.join(
          ', ',
        )}: the token is from another Access application; copy the Application Audience (AUD) tag of the application in front of Backstage`,
      ];
    case 'wrong_issuer':
      return [
        `the token was issued by ${claims.iss ?? '(no iss)'}`,
        `the configured team domain expects ${config.issuer}: check teamName / teamDomain`,
      ];
    case 'unknown_kid':
      return [
        `the token's kid is ${
          header.kid ?? '(none)'
        }; the team's certs publish ${
          options.teamKids?.join(', ') || 'no usable key'
        }: the token was signed by another Access team (or an emulator), or by a key retired since`,
      ];
    case 'bad_signature':
      return [
        `the kid ${
          header.kid ?? ''
        } is a current key of the team, but the signature does not match it: the token was altered or not signed by Cloudflare Access`,
      ];
    case 'unknown_service_token':
      return [
        `the service token's Client ID ${
          claims.common_name
        } is not one of the ${
          config.serviceTokens.size
        } listed in ${providerConfigKey(
          options.providerId,
        )}.serviceTokens: add it with its subject to let it sign in`,
      ];
    case 'missing_claims':
      return claims.sub
        ? [
            `a person's token (sub ${claims.sub}) without an email claim: Access issues people's tokens with the email from the identity provider; check that the identity provider passes an email`,
          ]
        : [
            'the token names neither a person (sub) nor a service token (common_name)',
          ];
    case 'wrong_token_type':
      return [
        `the token's type is ${JSON.stringify(
          claims.type,
        )}: use the application token (the Cf-Access-Jwt-Assertion header or the CF_Authorization cookie on Backstage's own hostname), not the team's organisation token`,
      ];
    case 'unsupported_alg':
      return [
        `the token is signed with ${header.alg ?? '(no alg)'}, not RS256`,
      ];
    default:
      return [];
  }
}

async function runResolvers(
  result: CloudflareAccessResult,
  options: DiagnoseTokenOptions,
  defaultProfileTransform: (
    result: CloudflareAccessResult,
    ctx: any,
  ) => Promise<{ profile: any }>,
): Promise<ResolveOutcome> {
  const backendUrl = options.resolve?.backendUrl;
  if (!options.resolve) {
    return {
      status: 'skipped',
      message:
        'sign-in resolvers not run (add --resolve --backend-url <url> to run them against the catalog)',
    };
  }
  if (!backendUrl) {
    return {
      status: 'skipped',
      message: 'sign-in resolvers not run: --resolve needs --backend-url',
    };
  }
  let signedInBy: string | undefined;
  // Each resolver as the module makes it, noting which one signed the caller in.
  const factories = Object.fromEntries(
    Object.entries(moduleSignInResolverFactories()).map(([name, factory]) => [
      name,
      (factoryOptions?: any) => {
        const resolver = factory(factoryOptions);
        return async (info: any, ctx: any) => {
          const signedIn = await resolver(info, ctx);
          signedInBy = name;
          return signedIn;
        };
      },
    ]),
  );
  const chain = readSignInResolverChain({
    config: options.providerConfig,
    providerId: options.providerId,
    factories: factories as any,
  });
  if (!chain) {
    return {
      status: 'skipped',
      message: `sign-in resolvers not run: ${providerConfigKey(
        options.providerId,
      )}.signIn.resolvers is not set`,
    };
  }
  const ctx = createCatalogResolverContext({
    backendUrl,
    backendToken: options.resolve.backendToken,
    fetch: options.fetch,
  });
  try {
    const { profile } = await defaultProfileTransform(result, ctx);
    await chain({ result, profile }, ctx);
  } catch (error) {
    const err = error as Error & { reason?: string };
    return {
      status: 'not-signed-in',
      message: err.message ?? String(error),
      ...(err.reason && { reason: err.reason }),
    };
  }
  return {
    status: 'signed-in',
    resolver: signedInBy ?? 'unknown',
    entityRef: ctx.issued?.sub ?? '',
    ownershipEntityRefs: ctx.issued?.ent ?? [],
  };
}

export async function diagnoseToken(
  options: DiagnoseTokenOptions,
): Promise<TokenDiagnosis> {
  const now = options.now ?? Date.now;
  const decoded = decodeToken(options.token, now());
  const lines: string[] = [];
  const authenticator = createAuthenticator(
    {
      cache: noCache,
      logger: captureLogger(lines),
      providerId: options.providerId,
      rootConfig: options.rootConfig,
    },
    { now },
  );
  const ctx = authenticator.initialize({ config: options.providerConfig });
  // The request as Cloudflare Access forwards it: the token in the assertion header.
  const req = {
    headers: { [options.config.jwtHeaderName]: options.token },
  } as unknown as Parameters<typeof authenticator.authenticate>[0]['req'];

  let result: CloudflareAccessResult;
  try {
    ({ result } = await authenticator.authenticate({ req }, ctx));
  } catch (error) {
    if (!isCloudflareAccessRejection(error)) {
      throw error;
    }
    const { reason } = error;
    return {
      ...decoded,
      accepted: false,
      reason,
      sentence: rejectionSentence(reason),
      detail: error.details.detail,
      hint: rejectionHint(reason),
      explanation: explain(reason, decoded, options, now()),
      resolve: { status: 'skipped', message: 'the token is rejected' },
    };
  }

  let identity: IdentityOutcome;
  if (result.tokenType === 'service') {
    identity = { status: 'not-applicable' };
  } else if (!options.config.identity.enabled) {
    identity = { status: 'disabled' };
  } else if (result.identityAvailable) {
    const { name, email, groups, idp } = result.cfIdentity;
    identity = {
      status: 'ok',
      name,
      email,
      groups: groups.map(g => g.name || g.id),
      ...(idp && { idp }),
    };
  } else {
    identity = {
      status: 'unavailable',
      message:
        lines.find(line => line.includes('get-identity')) ??
        'get-identity did not answer',
    };
  }
  return {
    ...decoded,
    accepted: true,
    explanation: [],
    tokenType: result.tokenType,
    subject:
      result.tokenType === 'service' && result.serviceToken
        ? `service token ${result.serviceToken.clientId} as ${result.serviceToken.subject}`
        : result.claims.email,
    expiresIn:
      result.expiresInSeconds !== undefined
        ? durationText(result.expiresInSeconds)
        : undefined,
    identity,
    resolve: await runResolvers(
      result,
      options,
      authenticator.defaultProfileTransform as any,
    ),
  };
}
