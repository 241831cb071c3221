/*
 * What the boundary rules' unit tests check against: verified tokens as the
 * verifier returns them, and rules as ruleConfig.ts compiles them.
 */
import type { AccessRule } from '../boundary/rules/accessRule';
import type { VerifiedAccessToken } from '../token';
import type { CloudflareAccessClaims } from '../types';

/** The tests' clock. */
export const RULE_NOW = Date.parse('2026-06-01T12:00:00Z');
/** The AUD tag of the tests' Access application. */
export const RULE_AUD = 'aud-main';

/** A person's verified claims, issued at RULE_NOW, from NL. */
export const verifiedClaims = (
  overrides: Partial<CloudflareAccessClaims> = {},
): CloudflareAccessClaims => ({
  aud: [RULE_AUD],
  email: 'jane@example.com',
  exp: RULE_NOW / 1000 + 3600,
  iat: RULE_NOW / 1000,
  nbf: RULE_NOW / 1000,
  iss: 'https://testteam.cloudflareaccess.com',
  type: 'app',
  identity_nonce: 'nonce-1',
  sub: 'user-1',
  country: 'NL',
  ...overrides,
});

export const verifiedPerson = (
  overrides: Partial<CloudflareAccessClaims> = {},
): VerifiedAccessToken => ({
  tokenType: 'user',
  claims: verifiedClaims(overrides),
});

/** The service token `ci.access`, with no country. */
export const verifiedServiceToken = (
  overrides: Partial<CloudflareAccessClaims> = {},
): VerifiedAccessToken => ({
  tokenType: 'service',
  claims: verifiedClaims({
    email: '',
    sub: '',
    country: '',
    common_name: 'ci.access',
    ...overrides,
  }),
  clientId: 'ci.access',
  subject: { subject: 'ci@example.com', email: 'ci@example.com' },
});

/** What a test rule asks for. */
export type TestRuleRequirements = Partial<
  Pick<
    AccessRule,
    | 'label'
    | 'peopleOnly'
    | 'warp'
    | 'devicePosture'
    | 'countries'
    | 'identityProviders'
    | 'accessApplication'
    | 'identityMaxAgeMs'
  >
>;

/** A rule as ruleConfig.ts compiles it: needsIdentity follows from what it asks for. */
export function testRule(require: TestRuleRequirements): AccessRule {
  const devicePosture = require.devicePosture ?? [];
  return {
    label: 'test rule',
    match: [],
    patterns: [],
    peopleOnly: false,
    warp: false,
    refuseCallsOnBehalfOfPeople: false,
    identityMaxAgeMs: 60_000,
    ...require,
    devicePosture,
    needsIdentity:
      require.warp === true ||
      devicePosture.length > 0 ||
      require.identityProviders !== undefined,
  };
}
