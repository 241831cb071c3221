import type { BoundaryDecision } from '../boundaryDecision';
import { applyAccessRules } from '../boundaryDecision';
import {
  RULE_NOW,
  testRule,
  verifiedPerson,
  verifiedServiceToken,
} from '../../__testUtils__/ruleFixtures';
import type { AccessRule } from './accessRule';
import { AccessRules } from './accessRules';
import { parseRequestPattern } from './requestPattern';

// Which callers a rule with appliesTo holds to it, decided on the boundary's credentials decision: a plugin
// calling for a person is that person even with an Access token beside it, and a caller without Access and
// without a person behind it meets every rule.
const MCP = 'POST /api/mcp-actions/*';

function rulesFor(appliesTo: AccessRule['appliesTo']) {
  return new AccessRules([
    {
      ...testRule({ warp: true }),
      label: 'agents',
      match: [MCP],
      patterns: [parseRequestPattern(MCP)],
      ...(appliesTo && { appliesTo }),
      refuseCallsOnBehalfOfPeople: true,
    },
  ]);
}

const checks = {
  identity: async () => ({
    id: 'p',
    name: 'p',
    email: 'p@example.com',
    groups: [],
    device: { warp: false, gateway: false, posture: [] },
  }),
  nowMs: () => RULE_NOW,
};

const service = { verified: verifiedServiceToken(), token: 'service' };
const person = { verified: verifiedPerson(), token: 'person' };

const decisions: Record<string, BoundaryDecision> = {
  'a service token': { pass: true, as: 'access_signed_in', access: service },
  'a person without WARP': {
    pass: true,
    as: 'access_signed_in',
    access: person,
  },
  'a plugin for a person, no Access token': {
    pass: true,
    as: 'plugin',
    onBehalfOfUser: true,
  },
  'a plugin for a person, with a service token': {
    pass: true,
    as: 'plugin',
    onBehalfOfUser: true,
    access: service,
  },
  'an external caller without Access': { pass: true, as: 'external' },
};

async function outcome(appliesTo: AccessRule['appliesTo'], caller: string) {
  const result = await applyAccessRules(
    decisions[caller],
    rulesFor(appliesTo),
    'POST',
    '/api/mcp-actions/v1',
    checks,
  );
  return result.pass ? 'pass' : result.reason;
}

describe('appliesTo', () => {
  it.each([
    ['a service token', 'pass'],
    ['a person without WARP', 'warp_required'],
    ['a plugin for a person, no Access token', 'missing_token'],
    // The service token beside the plugin token does not make the person's call a service token's.
    ['a plugin for a person, with a service token', 'warp_required'],
    ['an external caller without Access', 'missing_token'],
  ])('people: %s -> %s', async (caller, expected) => {
    expect(await outcome('people', caller)).toBe(expected);
  });

  it.each([
    ['a service token', 'warp_required'],
    ['a person without WARP', 'pass'],
    ['a plugin for a person, no Access token', 'pass'],
    ['a plugin for a person, with a service token', 'pass'],
    ['an external caller without Access', 'missing_token'],
  ])('serviceTokens: %s -> %s', async (caller, expected) => {
    expect(await outcome('serviceTokens', caller)).toBe(expected);
  });

  it.each([
    ['a service token', 'warp_required'],
    ['a person without WARP', 'warp_required'],
    ['a plugin for a person, no Access token', 'missing_token'],
    ['a plugin for a person, with a service token', 'warp_required'],
    ['an external caller without Access', 'missing_token'],
  ])('unset (everyone): %s -> %s', async (caller, expected) => {
    expect(await outcome(undefined, caller)).toBe(expected);
  });
});
