import {
  RULE_NOW as NOW,
  testRule,
  TestRuleRequirements,
  verifiedPerson,
  verifiedServiceToken,
} from '../../__testUtils__/ruleFixtures';
import type { CloudflareAccessIdentityProfile } from '../../types';
import type { AccessCredential } from '../boundaryDecision';
import type { AccessRule } from './accessRule';
import { checkAccessRules, RuleChecks } from './checkAccessRules';

const SECOND = 1000;

const person = (
  overrides: Parameters<typeof verifiedPerson>[0] = {},
): AccessCredential => ({
  verified: verifiedPerson(overrides),
  token: 'person-token',
});

const serviceToken = (): AccessCredential => ({
  verified: verifiedServiceToken({ common_name: 'ci' }),
  token: 'service-token',
});

const rule = (
  label: string,
  require: Omit<TestRuleRequirements, 'label'>,
): AccessRule => testRule({ label, ...require });

const identity = (
  device: Partial<NonNullable<CloudflareAccessIdentityProfile['device']>> = {},
): CloudflareAccessIdentityProfile => ({
  id: 'user-1',
  name: 'Jane',
  email: 'jane@example.com',
  groups: [],
  idp: { id: 'idp-1', type: 'okta' },
  device: {
    warp: true,
    gateway: false,
    posture: [
      {
        ruleId: 'disk',
        name: 'Disk encrypted',
        type: 'disk_encryption',
        success: true,
        checkedAt: NOW - 30 * SECOND,
      },
    ],
    ...device,
  },
  fetchedAt: NOW,
});

/** RuleChecks that record what they were asked. */
function recordingChecks(
  answer: CloudflareAccessIdentityProfile | 'unavailable' = identity(),
  nowMs = NOW,
) {
  const identityCalls: number[] = [];
  const events: string[] = [];
  const checks: RuleChecks = {
    identity: jest.fn(async (maxAgeMs: number) => {
      identityCalls.push(maxAgeMs);
      events.push('identity');
      return answer === 'unavailable' ? undefined : answer;
    }),
    nowMs: jest.fn(() => {
      events.push('now');
      return nowMs;
    }),
  };
  return { checks, identityCalls, events };
}

describe('checkAccessRules', () => {
  it('meets no rules when there are none, without asking for the identity', async () => {
    const { checks, identityCalls } = recordingChecks();
    await expect(
      checkAccessRules([], person(), checks),
    ).resolves.toBeUndefined();
    expect(identityCalls).toEqual([]);
  });

  it('passes a request that meets every rule', async () => {
    const { checks } = recordingChecks();
    await expect(
      checkAccessRules(
        [
          rule('people', { peopleOnly: true }),
          rule('nl', { countries: new Set(['NL']) }),
          rule('warp', { warp: true }),
          rule('disk', { devicePosture: [{ ruleId: 'disk' }] }),
        ],
        person(),
        checks,
      ),
    ).resolves.toBeUndefined();
  });

  it('returns the first rule that refuses, with that rule', async () => {
    const people = rule('people', { peopleOnly: true });
    const germany = rule('germany', { countries: new Set(['DE']) });
    const warp = rule('warp', { warp: true });
    const { checks, identityCalls: calls } = recordingChecks(
      identity({ warp: false }),
    );
    const refused = await checkAccessRules(
      [people, germany, warp],
      person(),
      checks,
    );
    expect(refused).toEqual({
      reason: 'country_not_allowed',
      detail: `the token's country is "NL"`,
      rule: germany,
    });
    expect(refused?.rule).toBe(germany);

    // In another order, what the token alone refuses still comes first,
    // without asking get-identity.
    const before = calls.length;
    const reordered = await checkAccessRules(
      [warp, people, germany],
      person(),
      checks,
    );
    expect(reordered?.reason).toBe('country_not_allowed');
    expect(reordered?.rule).toBe(germany);
    expect(calls.length).toBe(before);
    // Once the token passes them all, the rules that read get-identity decide, in order.
    const warpFirst = await checkAccessRules([warp, people], person(), checks);
    expect(warpFirst?.reason).toBe('warp_required');
    expect(warpFirst?.rule).toBe(warp);
  });

  it('carries the posture requirement of the refusing rule', async () => {
    const disk = rule('disk', {
      devicePosture: [{ ruleId: 'disk', name: 'Encrypted disk' }],
    });
    const { checks } = recordingChecks(identity({ posture: [] }));
    await expect(checkAccessRules([disk], person(), checks)).resolves.toEqual({
      reason: 'posture_required',
      detail: 'posture rule disk has no result for this device',
      requirement: { postureCheck: 'Encrypted disk' },
      rule: disk,
    });
  });

  it('fetches the identity once, for the smallest identityMaxAgeMs of the rules that read it', async () => {
    const { checks, identityCalls } = recordingChecks();
    await checkAccessRules(
      [
        rule('warp', { warp: true, identityMaxAgeMs: 60 * SECOND }),
        // Smallest, but reads nothing from get-identity: does not count.
        rule('people', { peopleOnly: true, identityMaxAgeMs: 1 * SECOND }),
        rule('disk', {
          devicePosture: [{ ruleId: 'disk' }],
          identityMaxAgeMs: 10 * SECOND,
        }),
        rule('idp', {
          identityProviders: new Set(['okta']),
          identityMaxAgeMs: 30 * SECOND,
        }),
      ],
      person(),
      checks,
    );
    expect(identityCalls).toEqual([10 * SECOND]);
  });

  it('fetches the identity for a single rule that reads it, at its identityMaxAgeMs', async () => {
    for (const [require, maxAge] of [
      [{ warp: true, identityMaxAgeMs: 5 * SECOND }, 5 * SECOND],
      [{ identityProviders: new Set(['okta']) }, 60 * SECOND],
      [
        {
          devicePosture: [{ ruleId: 'disk' }],
          identityMaxAgeMs: 3600 * SECOND,
        },
        3600 * SECOND,
      ],
    ] as const) {
      const { checks, identityCalls } = recordingChecks();
      await checkAccessRules([rule('one', require)], person(), checks);
      expect(identityCalls).toEqual([maxAge]);
    }
  });

  it('does not fetch the identity when no matched rule reads it', async () => {
    const { checks, identityCalls } = recordingChecks();
    await expect(
      checkAccessRules(
        [
          rule('people', { peopleOnly: true, identityMaxAgeMs: SECOND }),
          rule('nl', { countries: new Set(['NL']) }),
          rule('app', { accessApplication: 'aud-main' }),
        ],
        person(),
        checks,
      ),
    ).resolves.toBeUndefined();
    expect(identityCalls).toEqual([]);
  });

  it('does not fetch the identity for a service token, which is refused by rules that read it', async () => {
    const { checks, identityCalls } = recordingChecks();
    for (const [require, reason] of [
      [{ warp: true }, 'warp_required'],
      [{ devicePosture: [{ ruleId: 'disk' }] }, 'posture_required'],
      [
        { identityProviders: new Set(['okta']) },
        'identity_provider_not_allowed',
      ],
    ] as const) {
      await expect(
        checkAccessRules([rule('r', require)], serviceToken(), checks),
      ).resolves.toEqual(expect.objectContaining({ reason }));
    }
    expect(identityCalls).toEqual([]);
  });

  it('lets a service token through rules that do not read the identity', async () => {
    const { checks, identityCalls } = recordingChecks();
    await expect(
      checkAccessRules(
        [rule('app', { accessApplication: 'aud-main' })],
        serviceToken(),
        checks,
      ),
    ).resolves.toBeUndefined();
    expect(identityCalls).toEqual([]);
  });

  it('refuses a person as access_context_unavailable when the identity cannot be had', async () => {
    const warp = rule('warp', { warp: true });
    const { checks, identityCalls } = recordingChecks('unavailable');
    await expect(checkAccessRules([warp], person(), checks)).resolves.toEqual({
      reason: 'access_context_unavailable',
      detail:
        'get-identity could not be reached for the device facts this rule needs',
      rule: warp,
    });
    expect(identityCalls).toEqual([60 * SECOND]);
  });

  it('still refuses for the token first when the identity cannot be had', async () => {
    const germany = rule('germany', { countries: new Set(['DE']) });
    const { checks } = recordingChecks('unavailable');
    const refused = await checkAccessRules(
      [rule('warp', { warp: true, countries: new Set(['US']) }), germany],
      person(),
      checks,
    );
    expect(refused?.reason).toBe('country_not_allowed');
    expect(refused?.rule.label).toBe('warp');
  });

  it('meets rules that need no identity when it cannot be had, and refuses at the one that does', async () => {
    const warp = rule('warp', { warp: true });
    const { checks } = recordingChecks('unavailable');
    const refused = await checkAccessRules(
      [rule('people', { peopleOnly: true }), warp],
      person(),
      checks,
    );
    expect(refused?.reason).toBe('access_context_unavailable');
    expect(refused?.rule).toBe(warp);
  });

  it('reads the clock after the identity arrives, for the posture age', async () => {
    const fresh = rule('fresh', {
      devicePosture: [{ ruleId: 'disk', maxAgeMs: 60 * SECOND }],
    });
    const passed = recordingChecks(identity(), NOW + 30 * SECOND);
    await expect(
      checkAccessRules([fresh], person(), passed.checks),
    ).resolves.toBeUndefined();
    expect(passed.events).toEqual(['identity', 'now']);

    // The result was checked at NOW - 30 s: at NOW + 61 s it is 91 s old.
    const stale = recordingChecks(identity(), NOW + 61 * SECOND);
    await expect(
      checkAccessRules([fresh], person(), stale.checks),
    ).resolves.toEqual(expect.objectContaining({ reason: 'posture_stale' }));
  });
});
