/*
 * 11. Boundary rules CPU per request: what evaluating `auth.providers.cfaccess.boundary.rules` adds to
 * a request the boundary has already let through on its credentials. Target (issue): at most 5 µs for
 * ten rules.
 *
 * In-process, no HTTP: ten rules of a realistic config, read by the module's own readBoundaryConfig from
 * a ConfigReader (so the compiled AccessRules are exactly what the boundary uses), then per request what
 * the boundary's `decide()` does after the credentials let a request through: `applyAccessRules()`,
 * the module's own function (the rules that name the request, `checkAccessRules()` with the session's
 * identity, and the refusal it builds). The caller is a person through Access (a verified token built directly, as TokenVerifier
 * returns it, frozen); the identity (with a device: WARP, Gateway, ten posture results) comes from an
 * async function that answers at once, as the identity client does from its memo: get-identity fetches,
 * and the memo lookup itself, are not counted.
 *
 * One call at a time (each awaited, as decide awaits it), in rotating slices with a loop around an empty
 * async function whose CPU (the loop's own cost) is subtracted round by round; CPU from
 * `process.cpuUsage()` around each slice (all threads, so the garbage collector's work on the
 * refusals counts too). Reported: the median over rounds, and its p10/p90.
 */
import { performance } from 'node:perf_hooks';
import { ConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/types';
import type { CloudflareAccessIdentityProfile } from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';
// The boundary's internals (not in the package's exports), read from the module's source as the
// boundary itself uses them.
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
import {
  type AccessCredential,
  type AccessRules,
  applyAccessRules,
  type BoundaryDecision,
  readBoundaryConfig,
} from '../../../plugins/auth-backend-module-cfaccess-provider/src/internal';
import { machineLoad } from './boundaryShared';
import { AUD, ISSUER, TEAM } from './fixtures';
import {
  fmtInt,
  median,
  note,
  percentile,
  printTable,
  progress,
  round,
  setting,
  writeResult,
} from './report';

const TARGET_NS = 5000;

/** A stricter Access application (its own AUD tag), also in the provider's audience list. */
const ADMIN_AUD = 'bench-admin-aud-tag';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const DISK = '4f1c2a9e-7b3d-4e8a-9c61-disk-encryption';
const OS = '8d2e5b17-3c4f-4a90-b7e2-os-version';
const FIREWALL = 'c3a7e1d4-5f6b-4c28-8e9d-firewall';

/** Ten rules as an adopter might write them: most on the scaffolder, a few on other plugins. */
const RULES = [
  {
    name: 'scaffolder: create tasks from a managed device',
    match: 'POST /api/scaffolder/v2/tasks',
    require: {
      peopleOnly: true,
      warp: true,
      devicePosture: [
        { rule: DISK, name: 'Disk encryption', maxAge: '1h' },
        { rule: OS, name: 'OS up to date', maxAge: { hours: 24 } },
      ],
    },
    identityMaxAge: '30s',
  },
  {
    name: 'scaffolder: actions',
    match: '/api/scaffolder/v2/actions/*',
    require: { peopleOnly: true, warp: true },
  },
  {
    name: 'scaffolder: dry run',
    match: 'POST /api/scaffolder/v2/dry-run',
    require: { peopleOnly: true, countries: ['NL', 'DE', 'BE', 'FR', 'GB'] },
  },
  {
    name: 'catalog: register and unregister',
    match: [
      'POST /api/catalog/locations',
      'DELETE /api/catalog/locations/*',
      'DELETE /api/catalog/entities/by-uid/*',
    ],
    require: {
      peopleOnly: true,
      identityProviders: ['0b7c4e2a-okta-workforce', 'azureAD'],
    },
  },
  {
    name: 'catalog: analyze location',
    match: 'POST /api/catalog/analyze-location',
    require: { countries: ['NL', 'DE', 'BE', 'FR', 'GB', 'IE', 'US', 'CA'] },
  },
  {
    name: 'kubernetes: proxy',
    match: '/api/kubernetes/proxy/*',
    require: { accessApplication: ADMIN_AUD, warp: true },
  },
  {
    name: 'techdocs: sync',
    match: 'GET /api/techdocs/sync/*',
    require: { peopleOnly: true },
  },
  {
    name: 'proxy: pagerduty',
    match: '/api/proxy/pagerduty/*',
    require: { countries: ['NL', 'DE', 'US'], identityProviders: ['okta'] },
  },
  {
    name: 'permission: policy changes',
    match: 'POST,PUT,DELETE /api/permission/policies/*',
    require: {
      peopleOnly: true,
      accessApplication: ADMIN_AUD,
      devicePosture: [{ rule: FIREWALL, name: 'Firewall on' }],
    },
    identityMaxAge: '5m',
  },
  {
    name: 'notifications: send',
    match: 'POST /api/notifications/notifications',
    require: { peopleOnly: true, countries: ['NL', 'DE'] },
  },
];

function providerConfig(rules: JsonObject[]) {
  return new ConfigReader({
    auth: {
      providers: {
        cfaccess: {
          teamName: TEAM,
          audience: [AUD, ADMIN_AUD],
          boundary: { mode: 'enforce', rules },
        },
      },
    },
  });
}

/** A person's verified Access token, frozen as TokenVerifier returns it. */
function personToken(nowMs: number): AccessCredential {
  const nowS = Math.floor(nowMs / 1000);
  const claims = Object.freeze({
    aud: Object.freeze([AUD]) as string[],
    email: 'user0@example.com',
    exp: nowS + 24 * 3600,
    iat: nowS - 600,
    nbf: nowS - 600,
    iss: ISSUER,
    type: 'app',
    identity_nonce: 'nonce-0',
    sub: 'sub-0',
    country: 'NL',
  });
  return {
    verified: Object.freeze({ tokenType: 'user' as const, claims }),
    token: 'not-read-by-the-rules',
  };
}

/** get-identity's answer for the session: a managed device through WARP, ten posture results. */
function identityOf(
  nowMs: number,
  diskCheckedAgoMs: number,
): CloudflareAccessIdentityProfile {
  const result = (
    ruleId: string,
    name: string,
    type: string,
    agoMs: number,
  ) => ({
    ruleId,
    name,
    type,
    success: true,
    checkedAt: nowMs - agoMs,
  });
  return {
    id: 'sub-0',
    name: 'User Zero',
    email: 'user0@example.com',
    groups: [
      { id: 'g-1', name: 'engineering', email: 'engineering@example.com' },
      { id: 'g-2', name: 'platform', email: 'platform@example.com' },
      { id: 'g-3', name: 'on-call', email: 'on-call@example.com' },
    ],
    idp: { id: '0b7c4e2a-okta-workforce', type: 'okta' },
    device: {
      id: 'f2b1c0de-device',
      warp: true,
      gateway: true,
      posture: [
        result('a1-warp', 'WARP connected', 'warp', 2 * MINUTE),
        result('a2-gateway', 'Gateway', 'gateway', 2 * MINUTE),
        result('a3-serial', 'Corporate serial', 'serial_number', 5 * MINUTE),
        result(DISK, 'Disk encryption', 'disk_encryption', diskCheckedAgoMs),
        result('a5-domain', 'Domain joined', 'domain_joined', 5 * MINUTE),
        result('a6-cert', 'Device certificate', 'client_certificate', MINUTE),
        result('a7-av', 'Antivirus', 'sentinelone', 3 * MINUTE),
        result(FIREWALL, 'Firewall', 'firewall', 4 * MINUTE),
        result(OS, 'OS version', 'os_version', 20 * MINUTE),
        result('a10-app', 'EDR running', 'application', 3 * MINUTE),
      ],
    },
    fetchedAt: nowMs - 10 * SECOND,
  };
}

type Passed = { pass: true; as: 'access'; access: AccessCredential };

type Identities = {
  lookup(
    access: AccessCredential,
    maxAgeMs: number,
  ): Promise<CloudflareAccessIdentityProfile | undefined>;
  asked: number;
};

/** The identity client's memoised case: an async function that answers at once. */
function memoisedIdentity(
  identity: CloudflareAccessIdentityProfile,
): Identities {
  const identities: Identities = {
    asked: 0,
    async lookup() {
      identities.asked += 1;
      return identity;
    },
  };
  return identities;
}

type CaseKey = 'loop' | 'empty' | 'a' | 'b' | 'c' | 'd1' | 'd2';

type Case = {
  key: CaseKey;
  name: string;
  method: string;
  /** As Express hands it to the boundary (req.path: no query, not decoded). */
  path: string;
  rules: AccessRules;
  identities: Identities;
  decision: Passed;
  /** 'pass', or the refusal reason. */
  expect: string;
  /** How many rules must name the request. */
  expectMatched: number;
  run: () => Promise<BoundaryDecision>;
};

type Slice = { calls: number; cpuNs: number; wallNs: number; passed: number };

/** Calls in a row between two looks at the clock. */
const BATCH = 256;

async function slice(c: Case, ms: number): Promise<Slice> {
  const { run, decision } = c;
  let calls = 0;
  let passed = 0;
  const end = performance.now() + ms;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  do {
    for (let i = 0; i < BATCH; i++) {
      if ((await run()) === decision) {
        passed += 1;
      }
    }
    calls += BATCH;
  } while (performance.now() < end);
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  return { calls, cpuNs: (cpu.user + cpu.system) * 1000, wallNs, passed };
}

type Row = {
  key: CaseKey;
  case: string;
  request: string;
  rulesMatched: string[];
  /** Median over rounds of (this case's CPU ns per call − the loop's in the same round). */
  addedNs: number;
  addedNsP10: number;
  addedNsP90: number;
  /** Median CPU ns per call, loop included. */
  cpuNsPerCall: number;
  wallNsPerCall: number;
  calls: number;
  passed: number;
  refused: number;
  identityAskedPerCall: number;
  outcome: string;
  outcomeAsExpected: boolean;
};

export async function runRulesCpu() {
  const rounds = setting('BENCH_RULES_ROUNDS', 25, 5);
  const sliceMs = setting('BENCH_RULES_SLICE_MS', 100, 40);
  const warmupMs = setting('BENCH_RULES_WARMUP_MS', 500, 150);
  progress(
    `rules CPU: ${RULES.length} rules, ${rounds} rounds of ${sliceMs} ms slices per case, ${warmupMs} ms warm-up per case`,
  );
  const loadBefore = machineLoad();

  const ten = readBoundaryConfig(providerConfig(RULES)).rules;
  const none = readBoundaryConfig(providerConfig([])).rules;
  if (ten.size !== RULES.length || none.size !== 0) {
    throw new Error(`read ${ten.size} rules of ${RULES.length}`);
  }
  const nowMs = Date.now();
  const access = personToken(nowMs);
  // Disk encryption checked 20 minutes ago (the rule allows 1 h), or 3 h ago: posture_stale.
  const fresh = identityOf(nowMs, 20 * MINUTE);
  const stale = identityOf(nowMs, 3 * HOUR);

  const CATALOG_GET =
    '/api/catalog/entities/by-name/component/default/bench-service';
  const make = (
    key: CaseKey,
    name: string,
    method: string,
    path: string,
    rules: AccessRules,
    identity: CloudflareAccessIdentityProfile,
    expect: string,
    expectMatched: number,
  ): Case => {
    const decision: Passed = { pass: true, as: 'access', access };
    const identities = memoisedIdentity(identity);
    const run =
      key === 'loop'
        ? async (): Promise<BoundaryDecision> => decision
        : () =>
            applyAccessRules(decision, rules, method, path, {
              identity: (a, maxAgeMs) => identities.lookup(a, maxAgeMs),
              nowMs: Date.now,
            });
    return {
      key,
      name,
      method,
      path,
      rules,
      identities,
      decision,
      expect,
      expectMatched,
      run,
    };
  };
  const cases: Case[] = [
    make(
      'loop',
      'loop: empty async function (subtracted)',
      'GET',
      CATALOG_GET,
      none,
      fresh,
      'pass',
      0,
    ),
    make(
      'empty',
      'no rules configured (empty AccessRules): catalog GET',
      'GET',
      CATALOG_GET,
      none,
      fresh,
      'pass',
      0,
    ),
    make(
      'a',
      'a) ten rules, none matches: catalog GET',
      'GET',
      CATALOG_GET,
      ten,
      fresh,
      'pass',
      0,
    ),
    make(
      'b',
      'b) ten rules, one matches (WARP + 2 posture, maxAge): passes',
      'POST',
      '/api/scaffolder/v2/tasks',
      ten,
      fresh,
      'pass',
      1,
    ),
    make(
      'c',
      'c) ten rules, one matches: refused (posture_stale)',
      'POST',
      '/api/scaffolder/v2/tasks',
      ten,
      stale,
      'posture_stale',
      1,
    ),
    make(
      'd1',
      'd1) ten rules, encoded path with dot segments, none matches',
      'GET',
      '/api//Catalog/./entities/by-name/component/default/bench%2Dservice/%2E%2E/bench-service',
      ten,
      fresh,
      'pass',
      0,
    ),
    make(
      'd2',
      'd2) ten rules, encoded spelling of b (matches): passes',
      'POST',
      '/API/scaffolder//v2/./%74asks/%2e%2e/Tasks',
      ten,
      fresh,
      'pass',
      1,
    ),
  ];

  // What each case does, checked once before measuring.
  const checked = new Map<CaseKey, { matched: string[]; outcome: string }>();
  for (const c of cases) {
    const matched = c.rules.matching(c.method, c.path).map(r => r.label);
    const result = await c.run();
    const outcome = result.pass ? 'pass' : result.reason;
    checked.set(c.key, { matched, outcome });
    if (
      c.key !== 'loop' &&
      (outcome !== c.expect || matched.length !== c.expectMatched)
    ) {
      progress(
        `rules CPU: ${c.key} gave ${outcome} with ${matched.length} rules matched, expected ${c.expect} with ${c.expectMatched}`,
      );
    }
  }

  // Warm-up: every case, so that V8 has optimised the whole path.
  for (const c of cases) {
    for (let done = 0; done < warmupMs; done += sliceMs) {
      await slice(c, Math.min(sliceMs, warmupMs - done));
    }
  }
  for (const c of cases) {
    c.identities.asked = 0;
  }

  const samples = new Map<CaseKey, Slice[]>(cases.map(c => [c.key, []]));
  for (let r = 0; r < rounds; r++) {
    // The order rotates from round to round: no case always follows the same one.
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + r) % cases.length];
      samples.get(c.key)!.push(await slice(c, sliceMs));
    }
    // The event loop runs between rounds, not during a slice.
    await new Promise(res => setImmediate(res));
  }
  const loadAfter = machineLoad();

  const loopSlices = samples.get('loop')!;
  const perCall = (s: Slice) => s.cpuNs / s.calls;
  const rows: Row[] = cases.map(c => {
    const slices = samples.get(c.key)!;
    const added = slices
      .map((s, r) => perCall(s) - perCall(loopSlices[r]))
      .sort((x, y) => x - y);
    const calls = slices.reduce((n, s) => n + s.calls, 0);
    const passed = slices.reduce((n, s) => n + s.passed, 0);
    const { matched, outcome } = checked.get(c.key)!;
    const refused = calls - passed;
    const outcomeAsExpected =
      c.key === 'loop' ||
      (outcome === c.expect &&
        matched.length === c.expectMatched &&
        (c.expect === 'pass' ? refused === 0 : passed === 0));
    return {
      key: c.key,
      case: c.name,
      request: `${c.method} ${c.path}`,
      rulesMatched: matched,
      addedNs: c.key === 'loop' ? 0 : Math.round(median(added)),
      addedNsP10: c.key === 'loop' ? 0 : Math.round(percentile(added, 10)),
      addedNsP90: c.key === 'loop' ? 0 : Math.round(percentile(added, 90)),
      cpuNsPerCall: Math.round(median(slices.map(perCall))),
      wallNsPerCall: Math.round(median(slices.map(s => s.wallNs / s.calls))),
      calls,
      passed,
      refused,
      identityAskedPerCall: round(c.identities.asked / calls, 2),
      outcome,
      outcomeAsExpected,
    };
  });

  const tenRuleRows = rows.filter(r => !['loop', 'empty'].includes(r.key));
  const worst = Math.max(...tenRuleRows.map(r => r.addedNs));
  const outcomesRight = rows.every(r => r.outcomeAsExpected);
  const targetMet = worst <= TARGET_NS && outcomesRight;
  const result = {
    rules: RULES.length,
    patterns: ten.rules.reduce((n, rule) => n + rule.patterns.length, 0),
    rounds,
    sliceMs,
    warmupMs,
    machineLoad: { before: loadBefore, after: loadAfter },
    cases: rows,
    outcomesAsExpected: outcomesRight,
    worstAddedNs: worst,
    target: `ten rules: rule evaluation <= ${
      TARGET_NS / 1000
    } µs of CPU per request (in-process, get-identity memoised)`,
    targetMet,
  };

  printTable(
    `11. Boundary rules CPU per request: ${RULES.length} rules read by readBoundaryConfig, matching + checkAccessRules in-process (identity memoised), ${rounds} rounds of ${sliceMs} ms slices per case`,
    [
      [
        'request',
        'rules CPU ns/req (median)',
        'p10 – p90',
        'CPU ns/call (with loop)',
        'wall ns/call',
        'calls',
        'rules matched',
        'outcome',
      ],
      ...rows.map(r => [
        r.case,
        r.key === 'loop' ? '' : String(r.addedNs),
        r.key === 'loop' ? '' : `${r.addedNsP10} – ${r.addedNsP90}`,
        String(r.cpuNsPerCall),
        String(r.wallNsPerCall),
        fmtInt(r.calls),
        String(r.rulesMatched.length),
        r.key === 'loop'
          ? ''
          : `${r.outcome}${r.outcomeAsExpected ? '' : ' (NOT as expected)'}`,
      ]),
    ],
  );
  note(
    `rules CPU ns/req = CPU ns per call minus the loop's (an empty async function) in the same round; median of ${rounds} rounds. get-identity asked per call: ${rows
      .filter(r => r.key !== 'loop')
      .map(r => `${r.key} ${r.identityAskedPerCall}`)
      .join(
        ', ',
      )}. Machine load (1 min): ${loadBefore} before, ${loadAfter} after. Outcomes as expected: ${
      outcomesRight ? 'yes' : 'NO'
    }.`,
  );
  note(
    `Target <= ${
      TARGET_NS / 1000
    } µs per request for ten rules (in-process CPU, get-identity memoised): ${
      targetMet ? 'met' : 'NOT met'
    } (worst row ${round(worst / 1000, 2)} µs).`,
  );
  writeResult('rules-cpu', result);
  return result;
}
