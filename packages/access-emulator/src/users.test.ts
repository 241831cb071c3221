import path from 'node:path';
import { loadUsersFile, parseUsersConfig } from './users';

describe('users file', () => {
  it('loads the shipped example', async () => {
    const config = await loadUsersFile(
      path.resolve(__dirname, '../users.example.yaml'),
    );
    expect(config.users).toEqual([
      {
        email: 'alice@example.com',
        name: 'Alice Example',
        groups: ['engineering', 'admins'],
        country: undefined,
      },
      {
        email: 'bob@example.com',
        name: 'Bob Builder',
        groups: ['engineering'],
        country: undefined,
      },
      {
        email: 'carol@example.com',
        name: 'Carol Danvers',
        groups: ['product'],
        country: undefined,
      },
    ]);
    expect(config.serviceTokens).toHaveLength(1);
    expect(config.serviceTokens[0].clientId).toMatch(/\.access$/);
  });

  it('normalises emails and accepts group objects and countries', () => {
    const config = parseUsersConfig(`
users:
  - email: " Dave@Example.COM "
    groups:
      - name: platform
        id: g-1
        email: platform@corp.example
    country: gb
`);
    expect(config.users[0]).toEqual({
      email: 'dave@example.com',
      name: undefined,
      groups: [{ name: 'platform', id: 'g-1', email: 'platform@corp.example' }],
      country: 'GB',
    });
    expect(config.serviceTokens).toEqual([]);
  });

  it('treats an empty file as no users', () => {
    expect(parseUsersConfig('')).toEqual({ users: [], serviceTokens: [] });
  });

  it.each([
    ['users: {}', /^test\.yaml: users: expected a list, got \{\}$/],
    ['users:\n  - 7', /users\[0\]: expected a mapping with an email, got 7$/],
    [
      'users:\n  - email: a@b.c\n    groups: [{ name: x, email: nope }]',
      /users\[0\]\.groups\[0\]\.email: not an email address, got "nope"$/,
    ],
    [
      'users:\n  - email: a@b.c\n    groups: [42]',
      /users\[0\]\.groups\[0\]: expected a group name or \{ name, id\?, email\? \}, got 42$/,
    ],
    ['users:\n  - name: x', /users\[0\]\.email: expected an email address/],
    [
      'users:\n  - email: a@b.c\n    role: x',
      /users\[0\]: unknown field "role"/,
    ],
    [
      'users:\n  - email: a@b.c\n    groups: admins',
      /users\[0\]\.groups: expected a list/,
    ],
    ['users:\n  - email: a@b.c\n    groups: [{ id: 1 }]', /groups\[0\]\.name/],
    [
      'users:\n  - email: a@b.c\n    country: Germany',
      /country: expected a two-letter/,
    ],
    [
      'users:\n  - email: a@b.c\n  - email: A@b.c',
      /users\[1\]\.email: duplicate/,
    ],
    [
      'serviceTokens:\n  - clientId: abc\n    clientSecret: s',
      /clientId: expected a Client ID ending in ".access"/,
    ],
    ['serviceTokens:\n  - clientId: abc.access', /clientSecret: required/],
    [
      'serviceTokens:\n  - clientId: abc.access\n    clientSecret: 987654',
      /serviceTokens\[0\]\.clientSecret: required \(a non-empty string\)$/,
    ],
    ['people: []', /unknown field "people"/],
    ['users: [', /invalid YAML/],
    ['- just a list', /expected a mapping/],
  ])('rejects %p with a clear error', (text, message) => {
    expect(() => parseUsersConfig(text, 'test.yaml')).toThrow(message);
    expect(() => parseUsersConfig(text, 'test.yaml')).toThrow(/^test\.yaml/);
  });

  it('names the file when it cannot be read', async () => {
    await expect(loadUsersFile('/nonexistent/users.yaml')).rejects.toThrow(
      /Cannot read users file \/nonexistent\/users\.yaml/,
    );
  });
});
