import {
  RULE_AUD as AUD,
  RULE_NOW as NOW,
  testRule,
  TestRuleRequirements,
  verifiedPerson,
  verifiedServiceToken,
} from '../../__testUtils__/ruleFixtures';
import type {
  CloudflareAccessIdentityProfile,
  CloudflareAccessPostureResult,
} from '../../types';
import {
  AccessRule,
  checkAccessRule,
  PostureRequirement,
  RuleFacts,
} from './accessRule';

const MINUTE = 60_000;
const ADMIN_AUD = 'aud-admin';

const person = verifiedPerson;
const serviceToken = verifiedServiceToken;

type RuleRequirements = Omit<TestRuleRequirements, 'label'>;
const rule = (require: RuleRequirements): AccessRule => testRule(require);

const posture = (
  ruleId: string,
  overrides: Partial<CloudflareAccessPostureResult> = {},
): CloudflareAccessPostureResult => ({
  ruleId,
  name: `Access name of ${ruleId}`,
  type: 'disk_encryption',
  success: true,
  checkedAt: NOW - MINUTE,
  ...overrides,
});

const identity = (
  device: Partial<NonNullable<CloudflareAccessIdentityProfile['device']>> = {},
  idp: CloudflareAccessIdentityProfile['idp'] | null = {
    id: 'idp-okta-1',
    type: 'okta',
  },
): CloudflareAccessIdentityProfile => ({
  id: 'user-1',
  name: 'Jane',
  email: 'jane@example.com',
  groups: [],
  ...(idp && { idp }),
  device: { warp: true, gateway: true, posture: [], ...device },
  fetchedAt: NOW - 1000,
});

const check = (
  accessRule: AccessRule,
  facts: Partial<RuleFacts> = {},
): ReturnType<typeof checkAccessRule> =>
  checkAccessRule(accessRule, {
    verified: person(),
    identity: identity(),
    nowMs: NOW,
    ...facts,
  });

const postureRule = (...wanted: PostureRequirement[]) =>
  rule({ devicePosture: wanted });

describe('checkAccessRule', () => {
  describe('peopleOnly', () => {
    const peopleOnly = rule({ peopleOnly: true });

    it('lets a person through', () => {
      expect(check(peopleOnly)).toBeUndefined();
    });

    it('refuses a service token, naming it in the detail', () => {
      expect(check(peopleOnly, { verified: serviceToken() })).toEqual({
        reason: 'people_only',
        detail: 'service token ci.access on a rule for people',
      });
    });

    it('lets a service token through a rule that does not ask for it', () => {
      expect(
        check(rule({ countries: new Set(['NL']) }), {
          verified: serviceToken({ country: 'NL' }),
        }),
      ).toBeUndefined();
    });
  });

  describe('accessApplication', () => {
    const admin = rule({ accessApplication: ADMIN_AUD });

    it('lets a token for that application through, among other AUD tags', () => {
      expect(
        check(admin, { verified: person({ aud: [ADMIN_AUD] }) }),
      ).toBeUndefined();
      expect(
        check(admin, { verified: person({ aud: [AUD, ADMIN_AUD] }) }),
      ).toBeUndefined();
      expect(
        check(admin, { verified: serviceToken({ aud: [ADMIN_AUD] }) }),
      ).toBeUndefined();
    });

    it('refuses a token for another application', () => {
      expect(check(admin)).toEqual({
        reason: 'access_application_required',
        detail: `the token is for AUD ${AUD}, not ${ADMIN_AUD}`,
      });
      expect(
        check(admin, { verified: serviceToken({ aud: [AUD, 'aud-x'] }) }),
      ).toEqual({
        reason: 'access_application_required',
        detail: `the token is for AUD ${AUD}, aud-x, not ${ADMIN_AUD}`,
      });
    });

    it('compares AUD tags exactly', () => {
      expect(
        check(admin, { verified: person({ aud: [ADMIN_AUD.toUpperCase()] }) })
          ?.reason,
      ).toBe('access_application_required');
      expect(
        check(admin, { verified: person({ aud: [`${ADMIN_AUD}x`] }) })?.reason,
      ).toBe('access_application_required');
    });
  });

  describe('countries', () => {
    const europe = rule({ countries: new Set(['NL', 'DE']) });

    it.each(['NL', 'DE', 'nl', 'De'])('lets country %j through', country => {
      expect(check(europe, { verified: person({ country }) })).toBeUndefined();
    });

    it.each(['US', 'BE', '', 'XX', 'NLD'])(
      'refuses country %j, quoting it',
      country => {
        expect(check(europe, { verified: person({ country }) })).toEqual({
          reason: 'country_not_allowed',
          detail: `the token's country is ${JSON.stringify(country)}`,
        });
      },
    );

    it('refuses a service token, which has no country', () => {
      expect(check(europe, { verified: serviceToken() })?.reason).toBe(
        'country_not_allowed',
      );
    });
  });

  describe('identityProviders', () => {
    it('lets a session through by the identity provider id', () => {
      expect(
        check(rule({ identityProviders: new Set(['idp-okta-1']) })),
      ).toBeUndefined();
    });

    it('lets a session through by the identity provider type', () => {
      expect(
        check(rule({ identityProviders: new Set(['okta']) })),
      ).toBeUndefined();
    });

    it('refuses another identity provider, naming it', () => {
      expect(
        check(rule({ identityProviders: new Set(['azureAD', 'idp-az-1']) })),
      ).toEqual({
        reason: 'identity_provider_not_allowed',
        detail: 'signed in through identity provider idp-okta-1 (okta)',
      });
    });

    it('compares ids exactly and types in any case', () => {
      expect(
        check(rule({ identityProviders: new Set(['IDP-OKTA-1']) }))?.reason,
      ).toBe('identity_provider_not_allowed');
      expect(
        check(rule({ identityProviders: new Set(['OKTA']) })),
      ).toBeUndefined();
    });

    it('refuses when get-identity named no identity provider', () => {
      expect(
        check(rule({ identityProviders: new Set(['okta']) }), {
          identity: identity({}, null),
        }),
      ).toEqual({
        reason: 'identity_provider_not_allowed',
        detail: 'get-identity named no identity provider',
      });
    });
  });

  describe('warp', () => {
    const warp = rule({ warp: true });

    it('lets a request through WARP through', () => {
      expect(check(warp)).toBeUndefined();
    });

    it('refuses a request not through WARP', () => {
      expect(check(warp, { identity: identity({ warp: false }) })).toEqual({
        reason: 'warp_required',
        detail: 'the request did not come through WARP',
      });
    });

    it('refuses an identity without device facts', () => {
      const { device, ...withoutDevice } = identity();
      expect(device).toBeDefined();
      expect(check(warp, { identity: withoutDevice })?.reason).toBe(
        'warp_required',
      );
    });

    it('does not take Gateway for WARP', () => {
      expect(
        check(warp, { identity: identity({ warp: false, gateway: true }) })
          ?.reason,
      ).toBe('warp_required');
    });

    it('does not look at WARP when the rule does not ask for it', () => {
      expect(
        check(rule({ peopleOnly: true }), {
          identity: identity({ warp: false }),
        }),
      ).toBeUndefined();
    });
  });

  describe('devicePosture', () => {
    it('lets a device that passed the posture rule through', () => {
      expect(
        check(postureRule({ ruleId: 'disk' }), {
          identity: identity({ posture: [posture('disk')] }),
        }),
      ).toBeUndefined();
    });

    it('needs every posture rule listed', () => {
      const both = postureRule({ ruleId: 'disk' }, { ruleId: 'firewall' });
      expect(
        check(both, {
          identity: identity({
            posture: [posture('disk'), posture('firewall')],
          }),
        }),
      ).toBeUndefined();
      expect(
        check(both, { identity: identity({ posture: [posture('disk')] }) }),
      ).toEqual({
        reason: 'posture_required',
        detail: 'posture rule firewall has no result for this device',
        requirement: { postureCheck: 'firewall' },
      });
    });

    it('reports the first posture rule not met, in the configured order', () => {
      const both = postureRule(
        { ruleId: 'firewall', name: 'Firewall on' },
        { ruleId: 'disk', name: 'Disk encrypted' },
      );
      expect(check(both, { identity: identity({ posture: [] }) })).toEqual(
        expect.objectContaining({
          requirement: { postureCheck: 'Firewall on' },
        }),
      );
    });

    describe('a result that is missing or failed is posture_required', () => {
      it('named as configured', () => {
        expect(
          check(postureRule({ ruleId: 'disk', name: 'Disk encrypted' }), {
            identity: identity({ posture: [posture('other')] }),
          }),
        ).toEqual({
          reason: 'posture_required',
          detail: 'posture rule disk has no result for this device',
          requirement: { postureCheck: 'Disk encrypted' },
        });
        expect(
          check(postureRule({ ruleId: 'disk', name: 'Disk encrypted' }), {
            identity: identity({
              posture: [posture('disk', { success: false })],
            }),
          }),
        ).toEqual({
          reason: 'posture_required',
          detail: 'posture rule disk did not pass',
          requirement: { postureCheck: 'Disk encrypted' },
        });
      });

      it("else by Access's rule_name", () => {
        expect(
          check(postureRule({ ruleId: 'disk' }), {
            identity: identity({
              posture: [
                posture('disk', { name: 'Disk (Access)', success: false }),
              ],
            }),
          }),
        ).toEqual({
          reason: 'posture_required',
          detail: 'posture rule disk did not pass',
          requirement: { postureCheck: 'Disk (Access)' },
        });
      });

      it('else by the posture rule id', () => {
        expect(
          check(postureRule({ ruleId: 'disk' }), {
            identity: identity({
              posture: [posture('disk', { name: '', success: false })],
            }),
          })?.requirement,
        ).toEqual({ postureCheck: 'disk' });
        expect(
          check(postureRule({ ruleId: 'disk' }), {
            identity: identity({ posture: [] }),
          })?.requirement,
        ).toEqual({ postureCheck: 'disk' });
      });

      it('when the identity has no device facts', () => {
        const { device, ...withoutDevice } = identity();
        expect(device).toBeDefined();
        expect(
          check(postureRule({ ruleId: 'disk' }), { identity: withoutDevice }),
        ).toEqual({
          reason: 'posture_required',
          detail: 'posture rule disk has no result for this device',
          requirement: { postureCheck: 'disk' },
        });
      });

      it('reading the result of that rule id, not another that passed', () => {
        expect(
          check(postureRule({ ruleId: 'disk' }), {
            identity: identity({
              posture: [
                posture('firewall'),
                posture('disk', { success: false }),
                posture('DISK'),
              ],
            }),
          })?.reason,
        ).toBe('posture_required');
      });
    });

    it('lets any age pass without maxAge, even with no or a future timestamp', () => {
      const anyAge = postureRule({ ruleId: 'disk' });
      for (const checkedAt of [
        NOW - 365 * 24 * 60 * MINUTE,
        undefined,
        NOW + 24 * 60 * MINUTE,
      ]) {
        const result = posture('disk', { checkedAt });
        if (checkedAt === undefined) {
          delete result.checkedAt;
        }
        expect(
          check(anyAge, { identity: identity({ posture: [result] }) }),
        ).toBeUndefined();
      }
    });

    describe('with maxAge', () => {
      const fresh = postureRule({
        ruleId: 'disk',
        name: 'Disk encrypted',
        maxAgeMs: 10 * MINUTE,
      });
      const checkedAt = (ms: number | undefined) => {
        const result = posture('disk', { checkedAt: ms });
        if (ms === undefined) {
          delete result.checkedAt;
        }
        return { identity: identity({ posture: [result] }) };
      };

      it.each([
        ['now', NOW],
        ['a minute ago', NOW - MINUTE],
        ['exactly maxAge ago', NOW - 10 * MINUTE],
        ['30 s in the future', NOW + 30_000],
        ['exactly 60 s in the future', NOW + 60_000],
      ])('lets a result checked %s through', (_, ms) => {
        expect(check(fresh, checkedAt(ms))).toBeUndefined();
      });

      it('refuses a result older than maxAge as posture_stale, with the ages', () => {
        expect(check(fresh, checkedAt(NOW - 10 * MINUTE - 1))).toEqual({
          reason: 'posture_stale',
          detail:
            'posture rule disk passed 600 s ago, more than the 600 s allowed',
          requirement: { postureCheck: 'Disk encrypted' },
        });
        expect(check(fresh, checkedAt(NOW - 60 * MINUTE))).toEqual({
          reason: 'posture_stale',
          detail:
            'posture rule disk passed 3600 s ago, more than the 600 s allowed',
          requirement: { postureCheck: 'Disk encrypted' },
        });
      });

      it('refuses a result without a timestamp as posture_stale', () => {
        expect(check(fresh, checkedAt(undefined))).toEqual({
          reason: 'posture_stale',
          detail: 'posture rule disk passed, with no usable timestamp',
          requirement: { postureCheck: 'Disk encrypted' },
        });
      });

      it('refuses a timestamp more than 60 s in the future as posture_stale', () => {
        expect(check(fresh, checkedAt(NOW + 60_001))).toEqual({
          reason: 'posture_stale',
          detail: 'posture rule disk passed, with no usable timestamp',
          requirement: { postureCheck: 'Disk encrypted' },
        });
        expect(
          check(fresh, checkedAt(NOW + 365 * 24 * 60 * MINUTE))?.reason,
        ).toBe('posture_stale');
      });

      it('reads a failed result as posture_required, whatever its age', () => {
        const failed = posture('disk', { success: false, checkedAt: NOW });
        expect(
          check(fresh, { identity: identity({ posture: [failed] }) })?.reason,
        ).toBe('posture_required');
      });

      it('names a stale result by rule_name, else the id, when not configured', () => {
        const unnamed = postureRule({ ruleId: 'disk', maxAgeMs: MINUTE });
        expect(
          check(unnamed, {
            identity: identity({
              posture: [posture('disk', { checkedAt: NOW - 2 * MINUTE })],
            }),
          })?.requirement,
        ).toEqual({ postureCheck: 'Access name of disk' });
        expect(
          check(unnamed, {
            identity: identity({
              posture: [
                posture('disk', { name: '', checkedAt: NOW - 2 * MINUTE }),
              ],
            }),
          })?.requirement,
        ).toEqual({ postureCheck: 'disk' });
      });

      it('reads the clock from the facts', () => {
        const result = { identity: identity({ posture: [posture('disk')] }) };
        expect(
          check(fresh, { ...result, nowMs: NOW + 9 * MINUTE }),
        ).toBeUndefined();
        expect(
          check(fresh, { ...result, nowMs: NOW + 9 * MINUTE + 1 })?.reason,
        ).toBe('posture_stale');
      });
    });

    describe('the name shown to the caller', () => {
      const shown = (name: string) =>
        check(postureRule({ ruleId: 'disk' }), {
          identity: identity({
            posture: [posture('disk', { name, success: false })],
          }),
        })?.requirement?.postureCheck;

      it('has control characters replaced and the ends trimmed', () => {
        expect(shown('Disk\nencrypted\r\n')).toBe('Disk encrypted');
        expect(shown('\u0000Disk\u001b[31m\u007f\u0085\u009f')).toBe(
          'Disk [31m',
        );
        expect(shown('\tDisk\tencrypted ')).toBe('Disk encrypted');
      });

      it('is cut to 100 characters, ending in …', () => {
        const name = shown('x'.repeat(500)) as string;
        expect(name).toHaveLength(100);
        expect(name).toBe(`${'x'.repeat(99)}…`);
        expect(shown('y'.repeat(100))).toBe('y'.repeat(100));
        expect(shown(`${' '.repeat(5)}${'z'.repeat(100)}\n`)).toBe(
          'z'.repeat(100),
        );
      });

      it('cleans a configured name too', () => {
        expect(
          check(
            postureRule({ ruleId: 'disk', name: `a\nb${'c'.repeat(200)}` }),
            {
              identity: identity({ posture: [] }),
            },
          )?.requirement?.postureCheck,
        ).toBe(`a b${'c'.repeat(96)}…`);
      });

      it('cleans a posture rule id used as the name', () => {
        expect(
          check(postureRule({ ruleId: 'disk\u0007' }), {
            identity: identity({ posture: [] }),
          })?.requirement?.postureCheck,
        ).toBe('disk');
      });

      it('falls back when the name is only control characters', () => {
        expect(shown('\u0000\n\u001b')).toBe('disk');
        expect(shown('   ')).toBe('disk');
      });

      it('keeps other characters as Access sent them', () => {
        expect(shown('Disk <b>"encrypted"</b> & ✓')).toBe(
          'Disk <b>"encrypted"</b> & ✓',
        );
      });
    });
  });

  describe('a service token', () => {
    it.each([
      [
        'warp',
        rule({ warp: true }),
        'warp_required',
        'the request did not come through WARP',
        undefined,
      ],
      [
        'devicePosture',
        postureRule({ ruleId: 'disk', name: 'Disk encrypted' }),
        'posture_required',
        'posture rule disk has no result for this device',
        { postureCheck: 'Disk encrypted' },
      ],
      [
        'identityProviders',
        rule({ identityProviders: new Set(['okta']) }),
        'identity_provider_not_allowed',
        'get-identity named no identity provider',
        undefined,
      ],
    ])(
      'is refused by a %s rule, even with an identity at hand',
      (_, accessRule, reason, detail, requirement) => {
        for (const facts of [
          { verified: serviceToken() },
          // The identity belongs to nobody a service token is: never read.
          {
            verified: serviceToken(),
            identity: identity({ posture: [posture('disk')] }),
          },
        ]) {
          expect(check(accessRule, facts)).toEqual({
            reason,
            detail,
            ...(requirement && { requirement }),
          });
        }
      },
    );

    it('is not refused as access_context_unavailable', () => {
      expect(
        check(rule({ warp: true }), {
          verified: serviceToken(),
          identity: undefined,
        })?.reason,
      ).toBe('warp_required');
    });
  });

  describe('a person whose identity is unavailable', () => {
    it.each([
      ['warp', rule({ warp: true })],
      ['devicePosture', postureRule({ ruleId: 'disk' })],
      ['identityProviders', rule({ identityProviders: new Set(['okta']) })],
    ])('is refused by a %s rule as access_context_unavailable', (_, r) => {
      expect(check(r, { identity: undefined })).toEqual({
        reason: 'access_context_unavailable',
        detail:
          'get-identity could not be reached for the device facts this rule needs',
      });
    });

    it('meets a rule that needs no identity', () => {
      expect(
        check(
          rule({
            peopleOnly: true,
            countries: new Set(['NL']),
            accessApplication: AUD,
          }),
          { identity: undefined },
        ),
      ).toBeUndefined();
    });

    it('is refused for the token first, when the token fails the rule', () => {
      expect(
        check(rule({ warp: true, countries: new Set(['DE']) }), {
          identity: undefined,
        })?.reason,
      ).toBe('country_not_allowed');
    });
  });

  describe('a rule asking for everything', () => {
    const everything = rule({
      peopleOnly: true,
      accessApplication: ADMIN_AUD,
      countries: new Set(['NL']),
      identityProviders: new Set(['okta']),
      warp: true,
      devicePosture: [{ ruleId: 'disk', maxAgeMs: 10 * MINUTE }],
    });
    const meets: Partial<RuleFacts> = {
      verified: person({ aud: [ADMIN_AUD] }),
      identity: identity({ posture: [posture('disk')] }),
    };

    it('lets a request that meets it all through', () => {
      expect(check(everything, meets)).toBeUndefined();
    });

    it('checks in order: peopleOnly, accessApplication, countries, identity providers, WARP, posture', () => {
      const failingAll: Partial<RuleFacts> = {
        verified: person({ aud: [AUD], country: 'US' }),
        identity: identity(
          { warp: false, posture: [posture('disk', { success: false })] },
          { id: 'idp-az', type: 'azureAD' },
        ),
      };
      const seen: string[] = [];
      // Fix the failures one at a time, in order: each reveals the next.
      const steps: Array<(facts: Partial<RuleFacts>) => Partial<RuleFacts>> = [
        facts => ({ ...facts, verified: person({ country: 'US' }) }),
        facts => ({
          ...facts,
          verified: person({ aud: [ADMIN_AUD], country: 'US' }),
        }),
        facts => ({ ...facts, verified: person({ aud: [ADMIN_AUD] }) }),
        facts => ({
          ...facts,
          identity: identity({
            warp: false,
            posture: [posture('disk', { success: false })],
          }),
        }),
        facts => ({
          ...facts,
          identity: identity({
            posture: [posture('disk', { success: false })],
          }),
        }),
        facts => ({
          ...facts,
          identity: identity({
            posture: [posture('disk', { checkedAt: NOW - 11 * MINUTE })],
          }),
        }),
        () => meets,
      ];
      let facts: Partial<RuleFacts> = {
        ...failingAll,
        verified: serviceToken({ aud: [AUD], country: 'US' }),
      };
      for (const step of steps) {
        seen.push(check(everything, facts)?.reason ?? 'met');
        facts = step(facts);
      }
      seen.push(check(everything, facts)?.reason ?? 'met');
      expect(seen).toEqual([
        'people_only',
        'access_application_required',
        'country_not_allowed',
        'identity_provider_not_allowed',
        'warp_required',
        'posture_required',
        'posture_stale',
        'met',
      ]);
    });
  });
});
