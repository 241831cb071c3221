import type { IncomingMessage } from 'node:http';
import {
  CloudflareAccessReasonCode,
  isCloudflareAccessRejection,
} from '../errors';
import type { AccessHub } from '../service/accessHub';
import type { VerifiedAccessToken } from '../token';
import type { BoundaryConfig } from './boundaryConfig';
import { BackstageCaller } from './backstageTokens';
import { isPublicKeyPath } from './exemptPaths';
import { readRequestCredentials } from './requestCredentials';
import { accessSessionKey } from './sessionSignIns';
import type { CloudflareAccessIdentityProfile } from '../types';
import type { AccessRules } from './rules/accessRules';
import { checkAccessRules } from './rules/checkAccessRules';
import { type RuleCaller, ruleAppliesTo } from './rules/accessRule';

/** How a request came through: what the log and the metric call it. */
export type PassedAs =
  | 'exempt'
  | 'access'
  | 'access_signed_in'
  | 'plugin'
  | 'external'
  | 'user_info';

/** The request's verified Access token, for the rules. */
export type AccessCredential = { verified: VerifiedAccessToken; token: string };

export type BoundaryDecision =
  | {
      pass: true;
      as: PassedAs;
      /** An Authorization value to set: the Access session's Backstage token. */
      authorization?: string;
      /** Set when the request came with a valid Access token. */
      access?: AccessCredential;
      /** Set for a plugin token: the plugin calls on behalf of a person. */
      onBehalfOfUser?: boolean;
    }
  | {
      pass: false;
      reason: CloudflareAccessReasonCode;
      /** For the server log only. */
      detail: string;
      subject?: string;
      /** What the caller must meet, shown to them (a boundary rule's posture check). */
      requirement?: { postureCheck: string };
      /** What passing would have set (a rule's refusal in report mode passes). */
      authorization?: string;
    };

const refuse = (
  reason: CloudflareAccessReasonCode,
  detail: string,
  subject?: string,
): BoundaryDecision => ({ pass: false, reason, detail, subject });

/** The request's path as received. */
export function requestPath(req: IncomingMessage & { path?: string }): string {
  return req.path ?? new URL(req.url ?? '/', 'http://x').pathname;
}

/**
 * Where Backstage's user-info service asks the auth backend for a user's
 * ownership refs, over loopback with that user's (limited) token and no
 * Access token, while serving a request that did come through Access.
 */
const USER_INFO_PATH = '/api/auth/v1/userinfo';

/** The cfaccess provider's own routes (`/refresh`). */
const SIGN_IN_ROUTES = '/api/auth/cfaccess/';

/** Whether a (lower-cased) path is routed to a plugin: `/api` and below. */
function isPluginPath(routed: string): boolean {
  return routed === '/api' || routed.startsWith('/api/');
}

/** The plugin a (lower-cased) path under /api is for. */
export function targetPluginOf(path: string): string | undefined {
  if (!path.startsWith('/api/')) {
    return undefined;
  }
  const end = path.indexOf('/', 5);
  const id = end < 0 ? path.slice(5) : path.slice(5, end);
  return id || undefined;
}

/**
 * The reason a failed sign-in gives the caller, as `/refresh` would answer:
 * no user (403), groups unavailable (503), a token rejection. Anything else
 * is unexpected and left to the caller's error handling.
 */
function signInRefusalReason(
  error: unknown,
): CloudflareAccessReasonCode | undefined {
  if (isCloudflareAccessRejection(error)) {
    return error.reason;
  }
  const reason = (error as { reason?: unknown } | undefined)?.reason;
  if (reason === 'user_not_found' || reason === 'identity_unavailable') {
    return reason;
  }
  // Backstage's own resolvers say "no such user" with these.
  const name = (error as Error | undefined)?.name;
  return name === 'NotFoundError' || name === 'NotAllowedError'
    ? 'user_not_found'
    : undefined;
}

/** Why a request without an Access token was refused, for the log. */
function withoutAccessDetail(
  caller: BackstageCaller | undefined,
  credentials: { hasAuthorization: boolean },
): string {
  if (caller) {
    const who = caller.kind === 'user' ? caller.userEntityRef : caller.subject;
    return `no Access application token, and a Backstage ${caller.kind} token (${who}) that may not come without Access`;
  }
  return credentials.hasAuthorization
    ? 'no Access application token, and no valid Backstage token'
    : 'no Access application token and no Backstage token';
}

/** Whom an Access token names, for the log. */
function subjectOf(verified: VerifiedAccessToken): string {
  return verified.tokenType === 'service'
    ? verified.clientId
    : verified.claims.email || verified.claims.sub;
}

/**
 * What the Access boundary does with one request: its credentials decide
 * (decideCredentials), then the boundary rules that name the request, for a
 * request that came through Access or as an external caller without it.
 * Backstage's own traffic (plugin tokens, the user-info lookup) meets no
 * rule: it carries no Access context, and the person's request that caused it
 * met the rules where it entered.
 */
export async function decide(
  req: IncomingMessage & { path?: string },
  config: BoundaryConfig,
  hub: AccessHub,
  nowMs: () => number = Date.now,
): Promise<BoundaryDecision> {
  const decision = await decideCredentials(req, config, hub);
  return applyAccessRules(
    decision,
    config.rules,
    req.method,
    requestPath(req),
    {
      identity: (access, maxAgeMs) => hub.identityFor(access, maxAgeMs),
      nowMs,
    },
  );
}

/** Who a passed request comes from, for a rule's appliesTo. */
function ruleCallerOf(decision: BoundaryDecision & { pass: true }): RuleCaller {
  // A plugin acting for a person is that person, whatever Access token comes with it.
  if (decision.as === 'plugin' && decision.onBehalfOfUser) {
    return 'person';
  }
  if (decision.access) {
    return decision.access.verified.tokenType === 'service'
      ? 'serviceToken'
      : 'person';
  }
  // Without Access and not for a person: an external caller, held to every rule.
  return 'other';
}

/**
 * A credentials decision with the boundary rules applied: a pass that some
 * rule names becomes the refusal of the first requirement it does not meet.
 * Exempt paths, the user-info lookup and a plugin's own calls meet no rule;
 * a plugin's call on behalf of a person meets only the rules that refuse
 * such calls; any other caller without an Access token (an external caller
 * let in without Access) cannot meet one.
 */
export async function applyAccessRules(
  decision: BoundaryDecision,
  rules: AccessRules,
  method: string | undefined,
  path: string,
  checks: {
    identity(
      access: AccessCredential,
      maxAgeMs: number,
    ): Promise<CloudflareAccessIdentityProfile | undefined>;
    nowMs: () => number;
  },
): Promise<BoundaryDecision> {
  if (
    !decision.pass ||
    rules.size === 0 ||
    decision.as === 'exempt' ||
    decision.as === 'user_info'
  ) {
    return decision;
  }
  const { access } = decision;
  // A plugin's own call carries no Access context and meets no rule; one on
  // behalf of a person meets the rules that refuse such calls.
  if (decision.as === 'plugin' && !access && !decision.onBehalfOfUser) {
    return decision;
  }
  const caller = ruleCallerOf(decision);
  const matched = rules
    .matching(method, path)
    .filter(rule => ruleAppliesTo(rule, caller));
  if (matched.length === 0) {
    return decision;
  }
  if (!access) {
    const rule =
      decision.as === 'plugin'
        ? matched.find(r => r.refuseCallsOnBehalfOfPeople)
        : matched[0];
    if (!rule) {
      return decision;
    }
    return refuse(
      'missing_token',
      decision.as === 'plugin'
        ? `boundary rule "${rule.label}" refuses plugin calls on behalf of a person (refuseCallsOnBehalfOfPeople): their device was not checked for this request`
        : `boundary rule "${rule.label}" needs an Access token, and the ${decision.as} caller came without one`,
    );
  }
  const refusal = await checkAccessRules(matched, access, {
    identity: maxAgeMs => checks.identity(access, maxAgeMs),
    nowMs: checks.nowMs,
  });
  if (!refusal) {
    return decision;
  }
  return {
    pass: false,
    reason: refusal.reason,
    detail: `boundary rule "${refusal.rule.label}": ${refusal.detail}`,
    subject: subjectOf(access.verified),
    ...(refusal.requirement && { requirement: refusal.requirement }),
    ...(decision.authorization && { authorization: decision.authorization }),
  };
}

/**
 * What the Access boundary does with one request's credentials:
 *
 * - Through Access (a valid application token): passes. A request with a
 *   Backstage user token passes only when that user is the one the Access
 *   session signs in as (`identity_mismatch`); a request with no Backstage
 *   token (or an Authorization value that is not one) gets the session's
 *   Backstage token, issued in-process by the sign-in resolvers.
 * - Without Access: only Backstage's own traffic passes (a plugin token,
 *   verified), and external access callers the config names.
 * - Anything else is refused with the reason.
 */
async function decideCredentials(
  req: IncomingMessage & { path?: string },
  config: BoundaryConfig,
  hub: AccessHub,
): Promise<BoundaryDecision> {
  const path = requestPath(req);
  // Backstage's router matches paths case-insensitively (/API/Catalog is the
  // catalog), so every decision about where a request goes reads them so.
  const routed = path.toLowerCase();
  if (isPublicKeyPath(path) || config.exemptPaths.matches(path)) {
    return { pass: true, as: 'exempt' };
  }
  const ready = hub.ready ?? ((await hub.whenReady()) ? hub.ready : undefined);
  if (!ready) {
    return refuse(
      'boundary_unavailable',
      'the cfaccess sign-in provider is not registered or not created yet',
    );
  }
  const names = ready.state.config;
  const credentials = readRequestCredentials(req, names);
  if (!credentials.ok) {
    return refuse(credentials.reason, credentials.detail);
  }
  const targetPlugin = targetPluginOf(routed);
  const backstage = (token: string | undefined, allowLimited: boolean) =>
    token === undefined
      ? Promise.resolve(undefined)
      : ready.backstageTokens.check(token, targetPlugin, { allowLimited });

  if (credentials.accessToken === undefined) {
    const userInfo = routed === USER_INFO_PATH && req.method === 'GET';
    const caller = await backstage(credentials.bearer, userInfo);
    if (userInfo && caller?.kind === 'user') {
      return { pass: true, as: 'user_info' };
    }
    if (caller?.kind === 'plugin') {
      return {
        pass: true,
        as: 'plugin',
        onBehalfOfUser: caller.onBehalfOfUser,
      };
    }
    if (
      caller?.kind === 'external' &&
      config.externalAccessWithoutAccess.has(caller.subject)
    ) {
      return { pass: true, as: 'external' };
    }
    return refuse('missing_token', withoutAccessDetail(caller, credentials));
  }

  let verified: VerifiedAccessToken;
  try {
    verified = await ready.state.verifier.verify(credentials.accessToken);
  } catch (error) {
    if (isCloudflareAccessRejection(error)) {
      return refuse(error.reason, error.details.detail, error.details.subject);
    }
    return refuse('malformed_token', 'the token could not be verified');
  }

  // The browser's usual request: the Backstage token this very session was
  // issued, still good; nothing to check twice.
  const sessionKey = accessSessionKey(verified);
  const known = ready.sessions.known(sessionKey);
  const access: AccessCredential = {
    verified,
    token: credentials.accessToken,
  };
  if (known !== undefined && credentials.bearer === known.token) {
    return { pass: true, as: 'access', access };
  }

  const [bearerCaller, cookieCaller] = await Promise.all([
    backstage(credentials.bearer, false),
    backstage(credentials.backstageCookie, true),
  ]);
  // The client's own Backstage credential, which is never replaced.
  const own: BackstageCaller | undefined =
    bearerCaller ?? (credentials.hasAuthorization ? undefined : cookieCaller);
  if (own && own.kind !== 'user') {
    return {
      pass: true,
      as: own.kind,
      access,
      ...(own.kind === 'plugin' && { onBehalfOfUser: own.onBehalfOfUser }),
    };
  }

  if (routed.startsWith(SIGN_IN_ROUTES) || !isPluginPath(routed)) {
    // The provider's own routes verify and sign in themselves, answering
    // failures the way the sign-in page expects; outside /api the app's own
    // files need no Backstage user, so a person Access lets in but the
    // catalog does not know still gets the page that tells them so.
    return { pass: true, as: 'access', access };
  }

  let signIn;
  try {
    signIn = known ?? (await hub.signInForRequest(req, verified));
  } catch (error) {
    const reason = signInRefusalReason(error);
    if (!reason) {
      throw error;
    }
    return refuse(reason, (error as Error).message, subjectOf(verified));
  }

  if (own) {
    if (own.userEntityRef !== signIn.userEntityRef) {
      return refuse(
        'identity_mismatch',
        `the Backstage token is ${own.userEntityRef}'s, the Access session signs in as ${signIn.userEntityRef}`,
        subjectOf(verified),
      );
    }
    // A same-user cookie alone (no Authorization) reaches only the routes
    // that read it; the session's token goes beside it, replacing nothing.
    return credentials.hasAuthorization
      ? { pass: true, as: 'access', access }
      : {
          pass: true,
          as: 'access',
          authorization: `Bearer ${signIn.token}`,
          access,
        };
  }
  return {
    pass: true,
    as: 'access_signed_in',
    authorization: `Bearer ${signIn.token}`,
    access,
  };
}
