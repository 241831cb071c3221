import {
  accessGroupsToEntityRefs,
  normalizeAccessGroups,
  slugifyAccessGroupName,
} from './groups';

describe('groups', () => {
  it('normalises objects and plain strings, dropping junk', () => {
    expect(
      normalizeAccessGroups([
        { id: 'g1', name: 'Platform Team', email: 'p@example.com' },
        { name: 'Only Name' },
        { id: 'only-id' },
        'SRE',
        '',
        42,
        null,
        ['nested'],
        {},
      ]),
    ).toEqual([
      { id: 'g1', name: 'Platform Team', email: 'p@example.com' },
      { id: 'Only Name', name: 'Only Name', email: '' },
      { id: 'only-id', name: 'only-id', email: '' },
      { id: 'SRE', name: 'SRE', email: '' },
    ]);
    expect(normalizeAccessGroups(undefined)).toEqual([]);
    expect(normalizeAccessGroups('admins')).toEqual([]);
  });

  it('slugifies group names into entity names', () => {
    expect(slugifyAccessGroupName('Platform Team')).toBe('platform-team');
    expect(slugifyAccessGroupName('  Équipe / Données ')).toBe(
      'equipe-donnees',
    );
    expect(slugifyAccessGroupName('team_a.b')).toBe('team_a.b');
    expect(slugifyAccessGroupName('---')).toBeUndefined();
    expect(slugifyAccessGroupName('x'.repeat(100))).toHaveLength(63);
  });

  it('turns groups into deduplicated entity refs', () => {
    expect(
      accessGroupsToEntityRefs([
        { id: 'g1', name: 'Platform Team', email: '' },
        'platform team',
        'SRE',
        '!!!',
      ]),
    ).toEqual(['group:default/platform-team', 'group:default/sre']);
  });

  it('honours kind, namespace and id', () => {
    expect(
      accessGroupsToEntityRefs([{ id: 'G-1', name: 'Platform', email: '' }], {
        kind: 'Group',
        namespace: 'access',
        use: 'id',
      }),
    ).toEqual(['group:access/g-1']);
  });
});
