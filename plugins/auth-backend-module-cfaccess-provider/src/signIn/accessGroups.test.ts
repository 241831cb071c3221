import { createAccessGroupMapper, normalizeAccessGroups } from './accessGroups';

/** Names that all became `group:default/admins` when group names were slugified. */
const ADMINS_LOOKALIKES = [
  'Admins',
  'ADMINS!',
  ' admins ',
  'admins\u200b',
  'ａｄｍｉｎｓ',
  'ådmins',
  '«admins»',
  '../admins',
];

const ADMINS_ID = '0b7f3c1e-5a7d-4c9e-9d51-4f1c2f8e6a10';

function group(name: string, id = '') {
  return { id, name, email: '' };
}

function recordingLogger() {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (m: string) => warnings.push(m) } };
}

describe('normalizeAccessGroups', () => {
  it('keeps objects and plain strings as reported, dropping junk', () => {
    expect(
      normalizeAccessGroups([
        { id: 'g1', name: 'Platform Team', email: 'p@example.com' },
        { name: 'Only Name' },
        { id: 'only-id' },
        'SRE',
        ' padded ',
        '',
        '   ',
        42,
        null,
        ['nested'],
        {},
      ]),
    ).toEqual([
      { id: 'g1', name: 'Platform Team', email: 'p@example.com' },
      { id: '', name: 'Only Name', email: '' },
      { id: 'only-id', name: '', email: '' },
      { id: '', name: 'SRE', email: '' },
      { id: '', name: ' padded ', email: '' },
    ]);
    expect(normalizeAccessGroups(undefined)).toEqual([]);
    expect(normalizeAccessGroups('admins')).toEqual([]);
  });

  it('reads numeric ids as text and drops groups whose id cannot be read, so a name cannot stand in for it', () => {
    expect(
      normalizeAccessGroups([
        { id: 4242, name: 'admins' },
        { id: '  ', name: 'admins' },
        { id: { value: 'x' }, name: 'admins' },
        { id: 1.5, name: 'admins' },
        { id: null, name: 'named' },
      ]),
    ).toEqual([
      { id: '4242', name: 'admins', email: '' },
      { id: '', name: 'named', email: '' },
    ]);
    const map = createAccessGroupMapper({
      accessGroups: [
        { name: 'admins', entityRef: 'group:default/admins' },
        { id: '4242', entityRef: 'group:default/numeric' },
      ],
    });
    expect(
      map(
        normalizeAccessGroups([
          { id: 4242, name: 'admins' },
          { id: '  ', name: 'admins' },
        ]),
      ),
    ).toEqual(['group:default/numeric']);
  });
});

describe('createAccessGroupMapper with an explicit mapping', () => {
  const map = createAccessGroupMapper({
    accessGroups: [
      { id: ADMINS_ID, entityRef: 'group:default/admins' },
      { name: 'platform-team', entityRef: 'group:default/platform' },
      { name: 'Platform Team', entityRef: 'Group:Default/Platform' },
      { id: 'sre-id', entityRef: 'group:ops/sre' },
      { id: 'sre-id', entityRef: 'group:ops/on-call' },
    ],
  });

  it('grants the refs of mapped groups by id or exact name, and nothing else', () => {
    expect(
      map([
        group('Admins', ADMINS_ID),
        group('platform-team'),
        group('SRE', 'sre-id'),
        group('Everyone', 'everyone-id'),
        'unmapped',
      ]),
    ).toEqual([
      'group:default/admins',
      'group:default/platform',
      'group:ops/sre',
      'group:ops/on-call',
    ]);
    // Refs are canonical (lower case), whatever the mapping's spelling.
    expect(map(['Platform Team'])).toEqual(['group:default/platform']);
  });

  it.each(ADMINS_LOOKALIKES)(
    'grants nothing for a look-alike group named %j',
    name => {
      const byName = createAccessGroupMapper({
        accessGroups: [{ name: 'admins', entityRef: 'group:default/admins' }],
      });
      expect(byName([group(name, 'attacker-made')])).toEqual([]);
      expect(byName([name])).toEqual([]);
      expect(map([group(name)])).toEqual([]);
    },
  );

  it('matches a name entry only for groups without an id', () => {
    const { warnings, logger } = recordingLogger();
    const byName = createAccessGroupMapper({
      accessGroups: [{ name: 'Admins', entityRef: 'group:default/admins' }],
      logger,
    });
    // The identity provider reports no ids: the exact name is all there is.
    expect(byName(['Admins'])).toEqual(['group:default/admins']);
    expect(byName([group('Admins')])).toEqual(['group:default/admins']);
    // With ids, anyone who can create a group can name it "Admins".
    expect(byName([group('Admins', 'made-by-a-member')])).toEqual([]);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^accessGroups\[0\] maps the Access group "Admins"/,
      ),
      expect.stringMatching(
        /^Cloudflare Access group "Admins" \(id "made-by-a-member"\) grants nothing by its name: .*mapped by that id only/,
      ),
    ]);
    // The real team, mapped by id, still grants.
    expect(map([group('Admins', ADMINS_ID)])).toEqual(['group:default/admins']);
  });

  it('never takes a group name for an id', () => {
    // An identity provider without ids reports a group *named* like the mapped id.
    expect(map([ADMINS_ID, group(ADMINS_ID)])).toEqual([]);
  });

  it.each([
    [{}, /accessGroups must list the Access groups/],
    [{ accessGroups: [] }, /accessGroups must list the Access groups/],
    [
      {
        accessGroups: [{ name: 'a', entityRef: 'group:default/a' }],
        namespace: 'access',
      },
      /namespace only applies to dangerouslyMapGroupNames/,
    ],
    [
      { accessGroups: [{ id: 'x', name: 'y', entityRef: 'group:default/a' }] },
      /accessGroups\[0\] must have exactly one of id and name/,
    ],
    [
      { accessGroups: [{ entityRef: 'group:default/a' }] },
      /accessGroups\[0\] must have exactly one of id and name/,
    ],
    [
      { accessGroups: [{ id: ' ', entityRef: 'group:default/a' }] },
      /accessGroups\[0\]\.id must be a non-empty string/,
    ],
    [
      {
        accessGroups: [
          { id: 'ok', entityRef: 'group:default/a' },
          { name: 'b', entityRef: 'group:default/not valid' },
        ],
      },
      /accessGroups\[1\]\.entityRef is not a valid entity ref/,
    ],
    [
      { accessGroups: [{ name: 'b', entityRef: '' }] },
      /accessGroups\[0\]\.entityRef is not an entity ref/,
    ],
    [
      { dangerouslyMapGroupNames: true, namespace: 'Not A Namespace' },
      /namespace must be a lower-case catalog namespace/,
    ],
    [
      { accessGroups: { id: 'x', entityRef: 'group:default/a' } },
      /^accessGroups must be a list of \{ id or name, entityRef \}$/,
    ],
    [
      {
        accessGroups: [
          { id: 'ok', entityRef: 'group:default/a' },
          { id: 'x', entityRef: 'group:default/a', ids: ['y'], team: 'z' },
        ],
      },
      /^accessGroups\[1\] takes only id, name, entityRef and idp, got ids, team$/,
    ],
    [
      { accessGroups: ['admins'] },
      /^accessGroups\[0\] must be \{ id or name, entityRef \}$/,
    ],
    [
      { accessGroups: [null] },
      /^accessGroups\[0\] must be \{ id or name, entityRef \}$/,
    ],
    [
      { accessGroups: [{ name: 42, entityRef: 'group:default/a' }] },
      /^accessGroups\[0\]\.name must be a non-empty string$/,
    ],
    [
      { accessGroups: [{ id: 'x' }] },
      /^accessGroups\[0\]\.entityRef must be an entity ref$/,
    ],
  ])('refuses an invalid mapping at once: %j', (options, message) => {
    expect(() => createAccessGroupMapper(options as any)).toThrow(message);
  });

  it('throws InputError, a 400 rather than a 500, whatever the input', () => {
    for (const accessGroups of [42, [42], [{ id: {} }], [{ idp: [] }]]) {
      expect(() => createAccessGroupMapper({ accessGroups } as any)).toThrow(
        expect.objectContaining({ name: 'InputError' }),
      );
    }
  });
});

describe('createAccessGroupMapper and name entries without idp', () => {
  it('warns once per unscoped name entry when created, saying what it grants and how to scope it', () => {
    const { warnings, logger } = recordingLogger();
    const map = createAccessGroupMapper({
      accessGroups: [
        { id: ADMINS_ID, entityRef: 'group:default/admins' },
        { name: 'admins', entityRef: 'group:default/admins' },
        { name: 'sre', idp: { type: 'github' }, entityRef: 'group:ops/sre' },
        { name: 'Platform Team', entityRef: 'group:default/platform' },
      ],
      logger,
    });
    expect(warnings).toEqual([
      'accessGroups[1] maps the Access group "admins" without idp: a group of that name from any identity provider that reports no ids grants group:default/admins; add idp: { type } or idp: { id } to accept it only from the identity provider you mean',
      'accessGroups[3] maps the Access group "Platform Team" without idp: a group of that name from any identity provider that reports no ids grants group:default/platform; add idp: { type } or idp: { id } to accept it only from the identity provider you mean',
    ]);
    // Once, at creation: mapping adds no more of them.
    map(['admins', 'Platform Team']);
    expect(warnings).toHaveLength(2);
  });
});

describe('createAccessGroupMapper scoped to an identity provider', () => {
  const OKTA = { id: 'b1c0ffee-0000-4000-8000-000000000001', type: 'okta' };
  const GITHUB = { id: 'b1c0ffee-0000-4000-8000-000000000002', type: 'github' };
  const map = createAccessGroupMapper({
    accessGroups: [
      {
        id: 'admins-id',
        idp: { id: OKTA.id },
        entityRef: 'group:default/admins',
      },
      { name: 'sre', idp: { type: 'github' }, entityRef: 'group:default/sre' },
      {
        name: 'ops',
        idp: { id: GITHUB.id, type: 'github' },
        entityRef: 'group:default/ops',
      },
      { id: 'everyone-id', entityRef: 'group:default/everyone' },
    ],
  });

  it('matches an entry with idp only for groups from that identity provider', () => {
    expect(map([group('Admins', 'admins-id')], OKTA)).toEqual([
      'group:default/admins',
    ]);
    expect(map([group('Admins', 'admins-id')], GITHUB)).toEqual([]);
    expect(map(['sre', 'ops'], GITHUB)).toEqual([
      'group:default/sre',
      'group:default/ops',
    ]);
    expect(map(['sre', 'ops'], OKTA)).toEqual([]);
    // id and type must both match when both are given.
    expect(map(['ops'], { id: OKTA.id, type: 'github' })).toEqual([]);
  });

  it('matches no scoped entry when the identity provider is unknown', () => {
    expect(map([group('Admins', 'admins-id'), 'sre', 'ops'])).toEqual([]);
  });

  it('matches an entry without idp for every identity provider', () => {
    for (const idp of [OKTA, GITHUB, undefined]) {
      expect(map([group('Everyone', 'everyone-id')], idp)).toEqual([
        'group:default/everyone',
      ]);
    }
  });

  it.each([
    [{ idp: 'okta' }, /accessGroups\[0\]\.idp must be \{ id, type \}/],
    [{ idp: {} }, /accessGroups\[0\]\.idp must have an id, a type or both/],
    [
      { idp: { type: '' } },
      /accessGroups\[0\]\.idp\.type must be a non-empty string/,
    ],
    [
      { idp: { id: 7 } },
      /accessGroups\[0\]\.idp\.id must be a non-empty string/,
    ],
    [
      { idp: { name: 'Okta' } },
      /accessGroups\[0\]\.idp takes only id and type, got name/,
    ],
  ])('refuses an invalid idp at once: %j', (entry, message) => {
    expect(() =>
      createAccessGroupMapper({
        accessGroups: [
          { id: 'g', entityRef: 'group:default/g', ...entry } as any,
        ],
      }),
    ).toThrow(message);
  });
});

describe('createAccessGroupMapper with dangerouslyMapGroupNames', () => {
  it('maps lower-case entity names into the access namespace by default', () => {
    const map = createAccessGroupMapper({ dangerouslyMapGroupNames: true });
    expect(
      map([group('platform-team', 'g1'), 'sre', group('team_a.b')]),
    ).toEqual([
      'group:access/platform-team',
      'group:access/sre',
      'group:access/team_a.b',
    ]);
    expect(
      createAccessGroupMapper({
        dangerouslyMapGroupNames: true,
        namespace: 'idp',
      })(['sre']),
    ).toEqual(['group:idp/sre']);
  });

  it.each(ADMINS_LOOKALIKES)(
    'skips %j with a warning instead of changing it into a name',
    name => {
      const { warnings, logger } = recordingLogger();
      const map = createAccessGroupMapper({
        dangerouslyMapGroupNames: true,
        logger,
      });
      expect(map([group(name, 'g-1'), 'admins'])).toEqual([
        'group:access/admins',
      ]);
      expect(warnings).toEqual([
        expect.stringContaining(
          `${JSON.stringify(name)} (id "g-1") grants nothing`,
        ),
      ]);
    },
  );

  it('skips names longer than an entity name instead of cutting them', () => {
    const { warnings, logger } = recordingLogger();
    const map = createAccessGroupMapper({
      dangerouslyMapGroupNames: true,
      logger,
    });
    const prefix = 'a'.repeat(63);
    expect(map([prefix, `${prefix}-platform`, `${prefix}-finance`])).toEqual([
      `group:access/${prefix}`,
    ]);
    expect(warnings).toHaveLength(2);
  });

  it('grants neither of two groups that map to one ref, and names both', () => {
    const { warnings, logger } = recordingLogger();
    const map = createAccessGroupMapper({
      dangerouslyMapGroupNames: true,
      logger,
    });
    expect(
      map([
        group('admins', 'real-admins'),
        group('admins', 'made-by-a-member'),
        group('sre', 'sre-id'),
        group('sre', 'sre-id'), // the same group reported twice is no collision
      ]),
    ).toEqual(['group:access/sre']);
    expect(warnings).toEqual([
      'Cloudflare Access groups "admins" (id "real-admins") and "admins" (id "made-by-a-member") all map to group:access/admins; none of them grants it',
    ]);
  });

  it('leaves explicitly mapped groups to their mapping', () => {
    const map = createAccessGroupMapper({
      accessGroups: [{ id: ADMINS_ID, entityRef: 'group:default/admins' }],
      dangerouslyMapGroupNames: true,
    });
    expect(map([group('admins', ADMINS_ID), 'sre'])).toEqual([
      'group:default/admins',
      'group:access/sre',
    ]);
  });
});
