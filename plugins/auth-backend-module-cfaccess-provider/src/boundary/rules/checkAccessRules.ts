import type { CloudflareAccessIdentityProfile } from '../../types';
import type { AccessCredential } from '../boundaryDecision';
import {
  AccessRule,
  checkAccessRule,
  checkTokenFacts,
  RuleRefusal,
} from './accessRule';

export type RuleChecks = {
  /**
   * The session's identity from get-identity, no older than `maxAgeMs`;
   * undefined when it cannot be had.
   */
  identity(
    maxAgeMs: number,
  ): Promise<CloudflareAccessIdentityProfile | undefined>;
  nowMs: () => number;
};

/**
 * The first refusal among the rules a request must meet, or undefined when
 * it meets them all: first what the token alone decides, for every rule;
 * then get-identity is asked once, and only when a rule reads it (WARP,
 * posture, identity provider) and the caller is a person, for an answer as
 * fresh as the strictest of those rules wants.
 */
export async function checkAccessRules(
  rules: readonly AccessRule[],
  access: AccessCredential,
  checks: RuleChecks,
): Promise<(RuleRefusal & { rule: AccessRule }) | undefined> {
  let maxAgeMs = Infinity;
  for (const rule of rules) {
    // What the token alone refuses needs no get-identity request.
    const byToken = checkTokenFacts(rule, access.verified);
    if (byToken) {
      return { ...byToken, rule };
    }
    if (rule.needsIdentity && rule.identityMaxAgeMs < maxAgeMs) {
      maxAgeMs = rule.identityMaxAgeMs;
    }
  }
  const identity =
    maxAgeMs !== Infinity && access.verified.tokenType === 'user'
      ? await checks.identity(maxAgeMs)
      : undefined;
  const nowMs = checks.nowMs();
  for (const rule of rules) {
    const refusal = checkAccessRule(rule, {
      verified: access.verified,
      identity,
      nowMs,
    });
    if (refusal) {
      return { ...refusal, rule };
    }
  }
  return undefined;
}
