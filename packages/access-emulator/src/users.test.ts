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
        device: {
          id: 'laptop-alice',
          warp: true,
          gateway: false,
          posture: [
            {
              id: 'disk-encryption',
              name: 'Disk encryption',
              type: 'disk_encryption',
              success: true,
              ageSeconds: 300,
            },
            {
              id: 'firewall',
              name: 'Firewall',
              type: 'firewall',
              success: true,
            },
          ],
        },
      },
      {
        email: 'bob@example.com',
        name: 'Bob Builder',
        groups: ['engineering'],
        country: undefined,
        device: {
          id: 'laptop-bob',
          warp: true,
          gateway: false,
          posture: [
            {
              id: 'disk-encryption',
              name: 'Disk encryption',
              type: 'disk_encryption',
              success: false,
            },
          ],
        },
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
    expect(config.users[2]).not.toHaveProperty('device');
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

describe('devices in the users file', () => {
  it('reads a device with posture checks, an identity provider and defaults', () => {
    const config = parseUsersConfig(`
users:
  - email: erin@example.com
    country: de
    identityProvider: { id: idp-1, type: google }
    device:
      id: laptop-1
      warp: true
      gateway: true
      posture:
        - id: disk-encryption-rule-id
          name: Disk encryption
          type: disk_encryption
          success: true
          timestamp: 2026-12-07T12:00:00+02:00
        - id: firewall-rule-id
          type: firewall
          success: false
          ageSeconds: 90
          description: Firewall on
          error: firewall off
        - id: os
          type: os_version
          success: true
  - email: frank@example.com
    device: {}
`);
    expect(config.users[0]).toEqual({
      email: 'erin@example.com',
      groups: [],
      country: 'DE',
      identityProvider: { id: 'idp-1', type: 'google' },
      device: {
        id: 'laptop-1',
        warp: true,
        gateway: true,
        posture: [
          {
            id: 'disk-encryption-rule-id',
            name: 'Disk encryption',
            type: 'disk_encryption',
            success: true,
            // Normalised to UTC, as Access writes it.
            timestamp: '2026-12-07T10:00:00.000Z',
          },
          {
            id: 'firewall-rule-id',
            type: 'firewall',
            success: false,
            ageSeconds: 90,
            description: 'Firewall on',
            error: 'firewall off',
          },
          { id: 'os', type: 'os_version', success: true },
        ],
      },
    });
    expect(config.users[1].device).toEqual({
      warp: false,
      gateway: false,
      posture: [],
    });
    expect(config.users[1].identityProvider).toBeUndefined();
  });

  const device = (yaml: string) =>
    `users:\n  - email: a@b.c\n    device:\n${yaml
      .split('\n')
      .map(line => `      ${line}`)
      .join('\n')}`;
  const check = (yaml: string) =>
    device(
      `posture:\n  - id: r1\n    type: firewall\n${yaml
        .split('\n')
        .map(line => `    ${line}`)
        .join('\n')}`,
    );

  it.each([
    [
      'users:\n  - email: a@b.c\n    device: 7',
      /^test\.yaml: users\[0\]\.device: expected a mapping \(id, warp, gateway, posture\), got 7$/,
    ],
    [
      device('country: DE'),
      /users\[0\]\.device: unknown field "country" \(allowed: id, warp, gateway, posture; country and identityProvider are set on the user\)$/,
    ],
    [
      device('warp: yes'),
      /users\[0\]\.device\.warp: expected true or false, got "yes"$/,
    ],
    [device('id: ""'), /users\[0\]\.device\.id: expected a non-empty string/],
    [
      device('posture: disk'),
      /users\[0\]\.device\.posture: expected a list, got "disk"$/,
    ],
    [
      device('posture: [7]'),
      /device\.posture\[0\]: expected a mapping with id, type and success \(a posture check\), got 7$/,
    ],
    [check(''), /device\.posture\[0\]\.success: required$/],
    [
      check('success: "true"'),
      /posture\[0\]\.success: expected true or false, got "true"$/,
    ],
    [
      device('posture:\n  - id: r1\n    success: true'),
      /posture\[0\]\.type: required$/,
    ],
    [
      check('success: true\ntimestamp: yesterday'),
      /posture\[0\]\.timestamp: expected an ISO 8601 date and time, e\.g\. 2026-12-07T10:00:00Z, got "yesterday"$/,
    ],
    [
      check('success: true\ntimestamp: 2026-02-30T10:00:00Z'),
      /posture\[0\]\.timestamp: expected an ISO 8601 date and time/,
    ],
    [
      check('success: true\ntimestamp: 1700000000'),
      /posture\[0\]\.timestamp: expected an ISO 8601 date and time.*, got 1700000000$/,
    ],
    [
      check('success: true\nageSeconds: -1'),
      /posture\[0\]\.ageSeconds: expected a number of seconds \(0 or more\), got -1$/,
    ],
    [
      check('success: true\ntimestamp: 2026-12-07T10:00:00Z\nageSeconds: 5'),
      /posture\[0\]\.ageSeconds: give either timestamp or ageSeconds, not both$/,
    ],
    [
      check('success: true\nschedule: 5m'),
      /posture\[0\]: unknown field "schedule"/,
    ],
    [
      device(
        'posture:\n  - { id: r1, type: firewall, success: true }\n  - { id: r1, type: firewall, success: false }',
      ),
      /users\[0\]\.device\.posture\[1\]\.id: duplicate r1$/,
    ],
    [
      'users:\n  - email: a@b.c\n    identityProvider: { id: x }',
      /users\[0\]\.identityProvider\.type: required$/,
    ],
    [
      'users:\n  - email: a@b.c\n    identityProvider: google',
      /users\[0\]\.identityProvider: expected \{ id, type \}, got "google"$/,
    ],
  ])('rejects %p naming the key', (text, message) => {
    expect(() => parseUsersConfig(text, 'test.yaml')).toThrow(message);
  });
});
