import type { CloudflareAccessRuleReason } from '../../errors';
import type { VerifiedAccessToken } from '../../token';
import type { CloudflareAccessIdentityProfile } from '../../types';
import { RequestPattern } from './requestPattern';

/** A posture rule that must have passed, and how long ago at most. */
export type PostureRequirement = {
  ruleId: string;
  /** What the person is told the check is called; else Access's rule_name. */
  name?: string;
  maxAgeMs?: number;
};

/** One configured rule, read and checked at startup (ruleConfig.ts). */
export type AccessRule = {
  /** The rule's name, or where it is configured: for the log. */
  label: string;
  /** The `match` entries as written. */
  match: readonly string[];
  patterns: readonly RequestPattern[];
  peopleOnly: boolean;
  warp: boolean;
  devicePosture: readonly PostureRequirement[];
  /** Upper-case two-letter codes. */
  countries?: ReadonlySet<string>;
  /** Identity provider ids or types. */
  identityProviders?: ReadonlySet<string>;
  /** The AUD tag the token must carry. */
  accessApplication?: string;
  /** Whether a requirement reads get-identity's answer (WARP, posture, identity provider). */
  needsIdentity: boolean;
  /** get-identity answers older than this are fetched again before the check. */
  identityMaxAgeMs: number;
  /** A plugin's call on behalf of a person (no Access token) is refused, not passed. */
  refuseCallsOnBehalfOfPeople: boolean;
  /** Only these callers must meet the rule; the others pass it. Unset: every caller. */
  appliesTo?: 'people' | 'serviceTokens';
};

/**
 * Who a request that a rule names comes from: a person (their Access token, or a plugin's call on their
 * behalf), a service token, or another caller (external access without Access), which every rule applies to.
 */
export type RuleCaller = 'person' | 'serviceToken' | 'other';

/** Whether a rule applies to this caller (appliesTo), failing closed for any other caller. */
export function ruleAppliesTo(rule: AccessRule, caller: RuleCaller): boolean {
  switch (rule.appliesTo) {
    case 'people':
      return caller !== 'serviceToken';
    case 'serviceTokens':
      return caller !== 'person';
    default:
      return true;
  }
}

/** Why a request does not meet a rule. */
export type RuleRefusal = {
  reason: CloudflareAccessRuleReason;
  /** For the server log only. */
  detail: string;
  /** Shown to the person: the posture check to pass. */
  requirement?: { postureCheck: string };
};

export type RuleFacts = {
  verified: VerifiedAccessToken;
  /** The session's identity; undefined when unavailable (and for service tokens). */
  identity?: CloudflareAccessIdentityProfile;
  nowMs: number;
};

const NO_IDENTITY: CloudflareAccessIdentityProfile = Object.freeze({
  id: '',
  name: '',
  email: '',
  groups: [],
});

/** Longest posture check name shown to the caller. */
const MAX_NAME_LENGTH = 100;

/**
 * A check's name as the caller sees it: no control, format (zero-width,
 * direction-changing) or line-separator characters, at most MAX_NAME_LENGTH characters (code
 * points, so no surrogate pair is cut).
 */
function displayName(name: string): string {
  const plain = name
    // Control and format characters (zero-width, direction marks), line and paragraph separators.
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, ' ')
    .trim();
  const chars = [...plain];
  return chars.length > MAX_NAME_LENGTH
    ? `${chars.slice(0, MAX_NAME_LENGTH - 1).join('')}…`
    : plain;
}

/** A posture timestamp this far ahead of the clock is not believed. */
const FUTURE_TOLERANCE_MS = 60_000;

const refusal = (
  reason: RuleRefusal['reason'],
  detail: string,
  requirement?: RuleRefusal['requirement'],
): RuleRefusal => ({
  reason,
  detail,
  ...(requirement && { requirement }),
});

function checkPosture(
  wanted: PostureRequirement,
  identity: CloudflareAccessIdentityProfile,
  nowMs: number,
): RuleRefusal | undefined {
  const result = identity.device?.posture.find(
    entry => entry.ruleId === wanted.ruleId,
  );
  // Cleaned before the fallback: a name of only control characters or
  // spaces is no name.
  const postureCheck =
    displayName(wanted.name ?? '') ||
    displayName(result?.name ?? '') ||
    displayName(wanted.ruleId);
  if (!result || !result.success) {
    return refusal(
      'posture_required',
      `posture rule ${wanted.ruleId} ${
        result ? 'did not pass' : 'has no result for this device'
      }`,
      { postureCheck },
    );
  }
  if (wanted.maxAgeMs === undefined) {
    return undefined;
  }
  const { checkedAt } = result;
  if (checkedAt === undefined || checkedAt > nowMs + FUTURE_TOLERANCE_MS) {
    return refusal(
      'posture_stale',
      `posture rule ${wanted.ruleId} passed, with no usable timestamp`,
      { postureCheck },
    );
  }
  const ageMs = nowMs - checkedAt;
  if (ageMs > wanted.maxAgeMs) {
    return refusal(
      'posture_stale',
      `posture rule ${wanted.ruleId} passed ${Math.round(
        ageMs / 1000,
      )} s ago, more than the ${Math.round(wanted.maxAgeMs / 1000)} s allowed`,
      { postureCheck },
    );
  }
  return undefined;
}

/** The requirements get-identity's answer decides. */
function checkIdentityFacts(
  rule: AccessRule,
  identity: CloudflareAccessIdentityProfile,
  nowMs: number,
): RuleRefusal | undefined {
  const providers = rule.identityProviders;
  if (providers) {
    const idp = identity.idp;
    // Ids as written; types (okta, azureAD, onetimepin) in any case.
    const type = idp?.type.toLowerCase();
    if (
      !idp ||
      !(
        providers.has(idp.id) ||
        [...providers].some(entry => entry.toLowerCase() === type)
      )
    ) {
      return refusal(
        'identity_provider_not_allowed',
        idp
          ? `signed in through identity provider ${idp.id} (${idp.type})`
          : 'get-identity named no identity provider',
      );
    }
  }
  if (rule.warp && !identity.device?.warp) {
    return refusal('warp_required', 'the request did not come through WARP');
  }
  for (const wanted of rule.devicePosture) {
    const failed = checkPosture(wanted, identity, nowMs);
    if (failed) {
      return failed;
    }
  }
  return undefined;
}

/** The first requirement the token alone decides (person, AUD, country) that the request does not meet. */
export function checkTokenFacts(
  rule: AccessRule,
  verified: VerifiedAccessToken,
): RuleRefusal | undefined {
  if (rule.peopleOnly && verified.tokenType === 'service') {
    return refusal(
      'people_only',
      `service token ${verified.clientId} on a rule for people`,
    );
  }
  if (
    rule.accessApplication !== undefined &&
    !verified.claims.aud.includes(rule.accessApplication)
  ) {
    return refusal(
      'access_application_required',
      `the token is for AUD ${verified.claims.aud.join(', ')}, not ${
        rule.accessApplication
      }`,
    );
  }
  if (
    rule.countries &&
    !rule.countries.has(verified.claims.country.toUpperCase())
  ) {
    return refusal(
      'country_not_allowed',
      `the token's country is ${JSON.stringify(verified.claims.country)}`,
    );
  }
  return undefined;
}

/** The first requirement of the rule the request does not meet, if any. */
export function checkAccessRule(
  rule: AccessRule,
  facts: RuleFacts,
): RuleRefusal | undefined {
  const { verified, identity } = facts;
  const byToken = checkTokenFacts(rule, verified);
  if (byToken || !rule.needsIdentity) {
    return byToken;
  }
  if (verified.tokenType === 'service') {
    // A service token has no device and no identity provider.
    return checkIdentityFacts(rule, NO_IDENTITY, facts.nowMs);
  }
  if (!identity) {
    return refusal(
      'access_context_unavailable',
      'get-identity could not be reached for the device facts this rule needs',
    );
  }
  return checkIdentityFacts(rule, identity, facts.nowMs);
}
