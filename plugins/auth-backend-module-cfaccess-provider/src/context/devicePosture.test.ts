import { MAX_POSTURE_RESULTS, readDevicePosture } from './devicePosture';

/** get-identity's devicePosture as Cloudflare documents it. */
const cloudflareAnswer = {
  'f7b3bbf4-2a10-4a37-9a10-1a9b0f3f1f3e': {
    id: 'f7b3bbf4-2a10-4a37-9a10-1a9b0f3f1f3e',
    schedule: '5m',
    timestamp: '2024-01-15T10:30:00.123456Z',
    description: '',
    type: 'disk_encryption',
    check: { drives: {} },
    success: true,
    rule_name: 'Disk encrypted',
    input: { requireAll: true },
  },
  'b1c2d3e4-0000-4000-8000-000000000001': {
    type: 'os_version',
    rule_name: 'macOS up to date',
    success: false,
    timestamp: '2024-01-15T12:30:00+02:00',
  },
};

describe('readDevicePosture', () => {
  it('reads the results Cloudflare sends, one per posture rule id, in order', () => {
    expect(readDevicePosture(cloudflareAnswer)).toEqual([
      {
        ruleId: 'f7b3bbf4-2a10-4a37-9a10-1a9b0f3f1f3e',
        name: 'Disk encrypted',
        type: 'disk_encryption',
        success: true,
        checkedAt: Date.UTC(2024, 0, 15, 10, 30, 0, 123),
      },
      {
        ruleId: 'b1c2d3e4-0000-4000-8000-000000000001',
        name: 'macOS up to date',
        type: 'os_version',
        success: false,
        // 12:30 at +02:00 is 10:30 UTC.
        checkedAt: Date.UTC(2024, 0, 15, 10, 30, 0),
      },
    ]);
  });

  it.each([
    ['2024-01-15T10:30:00Z', Date.UTC(2024, 0, 15, 10, 30)],
    ['2024-01-15T10:30:00.5Z', Date.UTC(2024, 0, 15, 10, 30, 0, 500)],
    ['2024-01-15T05:30:00-05:00', Date.UTC(2024, 0, 15, 10, 30)],
    ['2024-01-15T16:00:00+05:30', Date.UTC(2024, 0, 15, 10, 30)],
    ['2024-01-15T10:30:00+00:00', Date.UTC(2024, 0, 15, 10, 30)],
  ])('reads the timestamp %s as an instant', (timestamp, checkedAt) => {
    const [result] = readDevicePosture({
      r: { rule_name: 'n', type: 't', success: true, timestamp },
    });
    expect(result.checkedAt).toBe(checkedAt);
  });

  it.each([
    ['a string', 'passed'],
    ['a number', 1],
    ['true', true],
    ['an array', [{ rule_name: 'x', success: true }]],
    ['null', null],
    ['undefined', undefined],
  ])('reads %s as no results', (_, value) => {
    expect(readDevicePosture(value)).toEqual([]);
  });

  it('reads an empty object as no results', () => {
    expect(readDevicePosture({})).toEqual([]);
  });

  it.each([
    ['null', null],
    ['a string', 'passed'],
    ['true', true],
    ['a number', 1],
    ['an array', [true]],
  ])('reads an entry that is %s as a result that did not pass', (_, entry) => {
    expect(readDevicePosture({ r1: entry })).toEqual([
      { ruleId: 'r1', name: '', type: '', success: false },
    ]);
  });

  it.each([
    ['"true"', 'true'],
    ['1', 1],
    ['missing', undefined],
    ['null', null],
    ['an object', { value: true }],
  ])('reads success %s as not passed', (_, success) => {
    const [result] = readDevicePosture({
      r1: { rule_name: 'Firewall', type: 'firewall', success },
    });
    expect(result).toEqual({
      ruleId: 'r1',
      name: 'Firewall',
      type: 'firewall',
      success: false,
    });
  });

  it.each([
    ['without a time zone', '2024-01-15T10:30:00'],
    ['with a space for T', '2024-01-15 10:30:00Z'],
    ['with an hour-only offset', '2024-01-15T10:30:00+02'],
    ['a date only', '2024-01-15'],
    ['garbage', 'yesterday'],
    ['empty', ''],
    ['an impossible date', '2024-13-45T10:30:00Z'],
    ['a number', 1705314600000],
    ['null', null],
    ['an object', { seconds: 1705314600 }],
  ])(
    'has no checkedAt for a timestamp %s, and keeps the rest',
    (_, timestamp) => {
      const [result] = readDevicePosture({
        r1: {
          rule_name: 'Firewall',
          type: 'firewall',
          success: true,
          timestamp,
        },
      });
      expect(result).toEqual({
        ruleId: 'r1',
        name: 'Firewall',
        type: 'firewall',
        success: true,
      });
      expect('checkedAt' in result).toBe(false);
    },
  );

  it.each([
    ['a number', 5],
    ['null', null],
    ['an object', { en: 'Firewall' }],
    ['missing', undefined],
  ])('reads a rule_name that is %s as an empty name', (_, ruleName) => {
    const [result] = readDevicePosture({
      r1: { rule_name: ruleName, type: 7, success: true },
    });
    expect(result).toEqual({ ruleId: 'r1', name: '', type: '', success: true });
  });

  it('keeps names as sent: cleaning them is for whoever shows them', () => {
    const [result] = readDevicePosture({
      r1: { rule_name: ' Disk\nencrypted ', success: true },
    });
    expect(result.name).toBe(' Disk\nencrypted ');
  });

  it('keeps __proto__ and constructor as rule ids, as data', () => {
    const answer = JSON.parse(
      '{"__proto__": {"rule_name": "proto", "success": true},' +
        ' "constructor": {"rule_name": "ctor", "success": true},' +
        ' "toString": {"rule_name": "str", "success": false}}',
    );
    const results = readDevicePosture(answer);
    expect(results).toEqual([
      { ruleId: '__proto__', name: 'proto', type: '', success: true },
      { ruleId: 'constructor', name: 'ctor', type: '', success: true },
      { ruleId: 'toString', name: 'str', type: '', success: false },
    ]);
    // Nothing leaked onto prototypes.
    expect(({} as any).rule_name).toBeUndefined();
    expect(({} as any).success).toBeUndefined();
    expect(Object.getPrototypeOf(results[0])).toBe(Object.prototype);
  });

  it('does not read a result through an entry whose __proto__ key is data', () => {
    const answer = JSON.parse(
      '{"r1": {"__proto__": {"success": true, "rule_name": "inherited"}}}',
    );
    expect(readDevicePosture(answer)).toEqual([
      { ruleId: 'r1', name: '', type: '', success: false },
    ]);
  });

  it('reads only own keys, not inherited ones', () => {
    const answer = Object.create({ inherited: { success: true } });
    answer.own = { rule_name: 'own', success: true };
    expect(readDevicePosture(answer).map(r => r.ruleId)).toEqual(['own']);
  });

  it(`keeps the first ${MAX_POSTURE_RESULTS} results of a larger answer`, () => {
    const answer: Record<string, unknown> = {};
    for (let i = 0; i < 5000; i++) {
      answer[`rule-${i}`] = { rule_name: `Rule ${i}`, success: true };
    }
    const results = readDevicePosture(answer);
    expect(results).toHaveLength(MAX_POSTURE_RESULTS);
    expect(results[0].ruleId).toBe('rule-0');
    expect(results[MAX_POSTURE_RESULTS - 1]).toEqual({
      ruleId: `rule-${MAX_POSTURE_RESULTS - 1}`,
      name: `Rule ${MAX_POSTURE_RESULTS - 1}`,
      type: '',
      success: true,
    });
    expect(results.some(r => r.ruleId === `rule-${MAX_POSTURE_RESULTS}`)).toBe(
      false,
    );
  });

  it('keeps every result of an answer at the cap', () => {
    const answer: Record<string, unknown> = {};
    for (let i = 0; i < MAX_POSTURE_RESULTS; i++) {
      answer[`rule-${i}`] = { success: true };
    }
    const results = readDevicePosture(answer);
    expect(results).toHaveLength(MAX_POSTURE_RESULTS);
    expect(results[MAX_POSTURE_RESULTS - 1].ruleId).toBe(
      `rule-${MAX_POSTURE_RESULTS - 1}`,
    );
  });

  it('reads 10,000 entries of every shape without throwing', () => {
    const shapes: unknown[] = [
      null,
      'x',
      7,
      [],
      { success: 'true', timestamp: 'nope' },
      { rule_name: {}, type: [], success: true, timestamp: 1 },
      { success: true, timestamp: '2024-01-15T10:30:00Z' },
    ];
    const json = `{${Array.from(
      { length: 10_000 },
      (_, i) => `"r${i}": ${JSON.stringify(shapes[i % shapes.length])}`,
    ).join(',')}}`;
    const answer = JSON.parse(json);
    let results: ReturnType<typeof readDevicePosture> = [];
    expect(() => {
      results = readDevicePosture(answer);
    }).not.toThrow();
    expect(results).toHaveLength(MAX_POSTURE_RESULTS);
    // Only the well-formed passing shape passed.
    expect(results.filter(r => r.success).map(r => r.ruleId)).toEqual(
      results
        .map((r, i) => (i % shapes.length >= 5 ? r.ruleId : undefined))
        .filter(Boolean),
    );
    expect(results[6].checkedAt).toBe(Date.UTC(2024, 0, 15, 10, 30));
    expect(results[5].checkedAt).toBeUndefined();
  });
});
