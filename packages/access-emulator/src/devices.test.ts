import request from 'supertest';
import { decodeJwt } from 'jose';
import { ADMIN_HEADER } from './defaults';
import { devicePostureOf } from './deviceIdentity';
import type { DeviceFacts } from './deviceStates';
import { type AccessEmulator, startAccessEmulator } from './server';
import { stableUuid } from './tokens';
import {
  type TestOrigin,
  cookieFrom,
  startTestOrigin,
} from './__testUtils__/origins';

const SERVICE_ID = 'device-tests.access';
const SERVICE_SECRET = 'device-tests-secret';
const FIXED = '2026-12-07T10:00:00.000Z';

const ALICE = {
  email: 'alice@example.com',
  name: 'Alice Example',
  country: 'gb',
  identityProvider: { id: 'idp-google-1', type: 'google' },
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
        timestamp: '2026-12-07T12:00:00+02:00',
      },
      {
        id: 'firewall-rule-id',
        name: 'Firewall',
        type: 'firewall',
        success: false,
        ageSeconds: 600,
        error: 'firewall is off',
      },
      { id: 'os-rule-id', type: 'os_version', success: true },
    ],
  },
};

async function login(
  emulator: AccessEmulator,
  form: Record<string, string | string[]>,
) {
  const res = await request(emulator.listenUrl)
    .post('/cdn-cgi/access/login')
    .type('form')
    .send({ redirect_url: '/', ...form });
  expect(res.status).toBe(302);
  const token = cookieFrom(res.headers['set-cookie']);
  return { token, payload: decodeJwt(token) };
}

async function identity(emulator: AccessEmulator, token: string) {
  const res = await request(emulator.listenUrl)
    .get('/cdn-cgi/access/get-identity')
    .set('Cookie', `CF_Authorization=${token}`);
  expect(res.status).toBe(200);
  return res.body;
}

const admin = (emulator: AccessEmulator) => ({
  patch: (email: string, body: unknown) =>
    request(emulator.listenUrl)
      .patch(`/cdn-cgi/emulator/users/${encodeURIComponent(email)}/device`)
      .set(ADMIN_HEADER, '1')
      .send(body as object),
  get: (email: string) =>
    request(emulator.listenUrl)
      .get(`/cdn-cgi/emulator/users/${encodeURIComponent(email)}/device`)
      .set(ADMIN_HEADER, '1'),
  reset: (email?: string) =>
    request(emulator.listenUrl)
      .delete(
        email
          ? `/cdn-cgi/emulator/users/${encodeURIComponent(email)}/device`
          : '/cdn-cgi/emulator/devices',
      )
      .set(ADMIN_HEADER, '1'),
});

describe('devices', () => {
  let emulator: AccessEmulator;
  let origin: TestOrigin;

  beforeAll(async () => {
    origin = await startTestOrigin('origin');
    emulator = await startAccessEmulator({
      port: 0,
      frontendUrl: origin.url,
      backendUrl: origin.url,
      users: [
        ALICE,
        { email: 'bob@example.com', name: 'Bob Builder', country: 'fr' },
      ],
      serviceTokens: [{ clientId: SERVICE_ID, clientSecret: SERVICE_SECRET }],
      country: 'de',
    });
  });

  afterAll(async () => {
    await emulator?.close();
    await origin?.close();
  });

  afterEach(() => {
    emulator.resetDevices();
    jest.restoreAllMocks();
  });

  describe('get-identity', () => {
    it('reports the device of the users file in Cloudflare shapes', async () => {
      const now = Date.now();
      const { token, payload } = await login(emulator, {
        email: 'alice@example.com',
      });
      expect(payload.country).toBe('GB');
      const body = await identity(emulator, token);
      expect(body).toMatchObject({
        email: 'alice@example.com',
        idp: { id: 'idp-google-1', type: 'google' },
        geo: { country: 'GB' },
        is_warp: true,
        is_gateway: true,
        device_id: 'laptop-1',
        device_sessions: {
          'laptop-1': { last_authenticated: payload.iat },
        },
      });
      expect(Object.keys(body.devicePosture)).toEqual([
        'disk-encryption-rule-id',
        'firewall-rule-id',
        'os-rule-id',
      ]);
      expect(body.devicePosture['disk-encryption-rule-id']).toEqual({
        id: 'disk-encryption-rule-id',
        rule_name: 'Disk encryption',
        type: 'disk_encryption',
        success: true,
        timestamp: FIXED,
        description: '',
        error: '',
        check: {},
        data: {},
      });
      const firewall = body.devicePosture['firewall-rule-id'];
      expect(firewall).toMatchObject({
        rule_name: 'Firewall',
        success: false,
        error: 'firewall is off',
      });
      const age = now - Date.parse(firewall.timestamp);
      expect(age).toBeGreaterThanOrEqual(600_000 - 1000);
      expect(age).toBeLessThan(600_000 + 5000);
      // No time given: reported now; no name: the id.
      const os = body.devicePosture['os-rule-id'];
      expect(os.rule_name).toBe('os-rule-id');
      expect(Math.abs(Date.parse(os.timestamp) - now)).toBeLessThan(5000);
      expect(os.timestamp).toMatch(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
      );
    });

    it('gives a person without a device no device_id, no WARP and no posture', async () => {
      const { token, payload } = await login(emulator, {
        email: 'bob@example.com',
      });
      expect(payload.country).toBe('FR');
      const body = await identity(emulator, token);
      expect(body).toMatchObject({
        email: 'bob@example.com',
        idp: { type: 'onetimepin' },
        geo: { country: 'FR' },
        is_warp: false,
        is_gateway: false,
        device_sessions: {},
        devicePosture: {},
      });
      expect(body).not.toHaveProperty('device_id');

      // Someone the users file does not know: the emulator's default country.
      const other = await login(emulator, { email: 'dave@example.org' });
      expect(other.payload.country).toBe('DE');
      expect((await identity(emulator, other.token)).geo).toEqual({
        country: 'DE',
      });
    });

    it('moves an ageSeconds timestamp with each answer, and keeps a fixed one', async () => {
      const { token } = await login(emulator, { email: 'alice@example.com' });
      const start = Date.now() + 60_000;
      const clock = jest.spyOn(Date, 'now').mockReturnValue(start);
      const first = (await identity(emulator, token)).devicePosture;
      clock.mockReturnValue(start + 3_600_000);
      const second = (await identity(emulator, token)).devicePosture;
      expect(first['firewall-rule-id'].timestamp).toBe(
        new Date(start - 600_000).toISOString(),
      );
      expect(second['firewall-rule-id'].timestamp).toBe(
        new Date(start + 3_600_000 - 600_000).toISOString(),
      );
      expect(second['os-rule-id'].timestamp).toBe(
        new Date(start + 3_600_000).toISOString(),
      );
      expect(first['disk-encryption-rule-id'].timestamp).toBe(FIXED);
      expect(second['disk-encryption-rule-id'].timestamp).toBe(FIXED);
    });

    it('builds devicePosture from the checks at the time given', () => {
      const device: DeviceFacts = {
        id: 'd',
        warp: false,
        gateway: false,
        posture: [
          {
            id: 'a',
            name: 'A',
            type: 'firewall',
            success: true,
            description: '',
            error: '',
            ageSeconds: 30,
          },
        ],
      };
      const at = Date.parse(FIXED);
      expect(devicePostureOf(device, at)).toEqual({
        a: expect.objectContaining({ timestamp: '2026-12-07T09:59:30.000Z' }),
      });
      expect(devicePostureOf(undefined, at)).toEqual({});
      expect(
        devicePostureOf({ ...device, rawPosture: { value: null } }, at),
      ).toBeNull();
    });

    it('keeps service tokens without a device', async () => {
      origin.requests.length = 0;
      const res = await request(emulator.listenUrl)
        .get('/anything')
        .set('CF-Access-Client-Id', SERVICE_ID)
        .set('CF-Access-Client-Secret', SERVICE_SECRET);
      expect(res.status).toBe(200);
      const assertion = String(
        origin.requests[0].headers['cf-access-jwt-assertion'],
      );
      const claims = decodeJwt(assertion);
      expect(claims.common_name).toBe(SERVICE_ID);
      expect(claims).not.toHaveProperty('country');
      expect(claims).not.toHaveProperty('device_id');
      const svc = await request(emulator.listenUrl)
        .get('/cdn-cgi/access/get-identity')
        .set('Cookie', `CF_Authorization=${assertion}`);
      expect(svc.status).toBe(401);
    });
  });

  describe('login page', () => {
    it('shows each person their device, filled with the users file', async () => {
      const res = await request(emulator.listenUrl).get(
        '/cdn-cgi/access/login',
      );
      expect(res.status).toBe(200);
      const html = res.text;
      // Alice: WARP on, GB, two of three checks passing.
      expect(html).toContain(
        '<summary>Device: WARP on, GB, 2 of 3 checks pass</summary>',
      );
      expect(html).toContain('<legend>Device of Alice Example</legend>');
      expect(html).toContain(
        '<input type="checkbox" id="device-0-warp" name="warp" value="on" checked><label for="device-0-warp">',
      );
      expect(html).toMatch(
        /<label for="device-0-country">Country<\/label><input class="country" id="device-0-country" name="country" value="GB"/,
      );
      expect(html).toContain(
        '<input type="checkbox" id="device-0-posture-0" name="posture_pass" value="disk-encryption-rule-id" checked><label for="device-0-posture-0">Disk encryption passes',
      );
      expect(html).toContain(
        '<input type="checkbox" id="device-0-posture-1" name="posture_pass" value="firewall-rule-id"><label for="device-0-posture-1">Firewall passes',
      );
      // Bob: no device, WARP off, FR; the email form: the default country.
      expect(html).toContain('<summary>Device: WARP off, FR</summary>');
      expect(html).toContain(
        '<input type="checkbox" id="device-1-warp" name="warp" value="on"><label',
      );
      expect(html).toMatch(
        /id="device-email-country" name="country" value="DE"/,
      );
      // Every input has a label.
      const ids = [...html.matchAll(/<input [^>]*id="([^"]+)"/g)].map(
        m => m[1],
      );
      expect(ids.length).toBeGreaterThan(5);
      for (const id of ids) {
        expect(html).toContain(`<label for="${id}">`);
      }
    });

    it('signs in with the device chosen, seen in the token and get-identity, and shown next time', async () => {
      const { token, payload } = await login(emulator, {
        email: 'alice@example.com',
        device: '1',
        // WARP unticked: no `warp` field.
        country: 'ca',
        posture: ['disk-encryption-rule-id', 'firewall-rule-id', 'os-rule-id'],
        posture_pass: ['firewall-rule-id'],
      });
      expect(payload.country).toBe('CA');
      const body = await identity(emulator, token);
      expect(body.is_warp).toBe(false);
      expect(body.geo).toEqual({ country: 'CA' });
      expect(body.device_id).toBe('laptop-1');
      const success = Object.fromEntries(
        Object.entries(body.devicePosture).map(([id, v]: [string, any]) => [
          id,
          v.success,
        ]),
      );
      expect(success).toEqual({
        'disk-encryption-rule-id': false,
        'firewall-rule-id': true,
        'os-rule-id': false,
      });
      // The fixed time is kept.
      expect(body.devicePosture['disk-encryption-rule-id'].timestamp).toBe(
        FIXED,
      );
      const page = await request(emulator.listenUrl).get(
        '/cdn-cgi/access/login',
      );
      expect(page.text).toContain(
        '<summary>Device: WARP off, CA, 1 of 3 checks pass</summary>',
      );
    });

    it('gives a person without a device one when WARP is ticked', async () => {
      const { token } = await login(emulator, {
        email: 'bob@example.com',
        device: '1',
        warp: 'on',
        country: 'FR',
      });
      const body = await identity(emulator, token);
      expect(body.is_warp).toBe(true);
      expect(body.device_id).toBe(stableUuid('device', 'bob@example.com'));
      expect(body.devicePosture).toEqual({});

      const unticked = await login(emulator, {
        email: 'dave@example.org',
        device: '1',
        country: '',
      });
      const dave = await identity(emulator, unticked.token);
      expect(dave).not.toHaveProperty('device_id');
      expect(dave.geo.country).toBe('DE');
    });

    it('refuses an invalid country, changing nothing', async () => {
      const res = await request(emulator.listenUrl)
        .post('/cdn-cgi/access/login')
        .type('form')
        .send({
          email: 'alice@example.com',
          redirect_url: '/',
          device: '1',
          country: 'Canada',
        });
      expect(res.status).toBe(400);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.text).toContain(
        'Enter a two-letter country code for the device.',
      );
      expect(emulator.getDevice('alice@example.com').country).toBe('GB');
      expect(emulator.getDevice('alice@example.com').device?.warp).toBe(true);
    });

    it('leaves the device alone for a login without the device fields (scripts)', async () => {
      emulator.updateDevice('alice@example.com', { warp: false });
      const { token } = await login(emulator, { email: 'alice@example.com' });
      expect((await identity(emulator, token)).is_warp).toBe(false);
    });
  });

  describe('admin endpoints', () => {
    it("changes an existing session's next get-identity, and tokens minted from then on", async () => {
      const { token, payload } = await login(emulator, {
        email: 'alice@example.com',
      });
      expect((await identity(emulator, token)).is_warp).toBe(true);

      const res = await admin(emulator).patch('Alice@Example.com', {
        warp: false,
        gateway: false,
        country: 'br',
        identityProvider: { id: 'entra-1', type: 'azureAD' },
        posture: {
          'disk-encryption-rule-id': { success: false, ageSeconds: 120 },
          'firewall-rule-id': null,
          'new-rule-id': {
            type: 'os_version',
            name: 'OS version',
            success: true,
            timestamp: '2026-01-01T00:00:00Z',
          },
        },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        email: 'alice@example.com',
        country: 'BR',
        identityProvider: { id: 'entra-1', type: 'azureAD' },
        device: { id: 'laptop-1', warp: false, rawDevicePosture: false },
      });

      const body = await identity(emulator, token);
      expect(body).toMatchObject({
        is_warp: false,
        is_gateway: false,
        geo: { country: 'BR' },
        idp: { id: 'entra-1', type: 'azureAD' },
        device_id: 'laptop-1',
        device_sessions: { 'laptop-1': { last_authenticated: payload.iat } },
      });
      expect(Object.keys(body.devicePosture).sort()).toEqual([
        'disk-encryption-rule-id',
        'new-rule-id',
        'os-rule-id',
      ]);
      const disk = body.devicePosture['disk-encryption-rule-id'];
      expect(disk.success).toBe(false);
      expect(Date.now() - Date.parse(disk.timestamp)).toBeGreaterThanOrEqual(
        119_000,
      );
      expect(body.devicePosture['new-rule-id']).toEqual({
        id: 'new-rule-id',
        rule_name: 'OS version',
        type: 'os_version',
        success: true,
        timestamp: '2026-01-01T00:00:00.000Z',
        description: '',
        error: '',
        check: {},
        data: {},
      });
      // The old token keeps its claim; a new one has the new country.
      expect(payload.country).toBe('GB');
      const again = await login(emulator, { email: 'alice@example.com' });
      expect(again.payload.country).toBe('BR');
      expect(
        decodeJwt(await emulator.mintUserToken('alice@example.com')).country,
      ).toBe('BR');

      // identityProvider: null goes back to the login's.
      await admin(emulator).patch('alice@example.com', {
        identityProvider: null,
      });
      expect((await identity(emulator, token)).idp).toEqual({
        id: 'idp-google-1',
        type: 'google',
      });
    });

    it('sends the current country to the origin as Cf-Ipcountry, the token keeping its own', async () => {
      const { token } = await login(emulator, { email: 'alice@example.com' });
      await admin(emulator).patch('alice@example.com', { country: 'jp' });
      origin.requests.length = 0;
      const res = await request(emulator.listenUrl)
        .get('/api/me')
        .set('Cookie', `CF_Authorization=${token}`);
      expect(res.status).toBe(200);
      const seen = origin.requests[0].headers;
      expect(seen['cf-ipcountry']).toBe('JP');
      expect(seen['cf-access-jwt-assertion']).toBe(token);
      expect(decodeJwt(token).country).toBe('GB');
    });

    it.each([
      ['a malformed entry', { 'rule-1': { success: 'yes', id: 7 } }],
      ['a missing timestamp', { 'rule-1': { id: 'rule-1', success: true } }],
      ['a list', [1, 'two', { three: 3 }]],
      ['a string', 'not an object'],
      ['null', null],
      ['a number', 42],
    ])(
      'returns a raw devicePosture verbatim: %s',
      async (_what, devicePosture) => {
        const { token } = await login(emulator, {
          email: 'alice@example.com',
        });
        const res = await admin(emulator).patch('alice@example.com', {
          devicePosture,
        });
        expect(res.status).toBe(200);
        expect(res.body.device.rawDevicePosture).toBe(true);
        const body = await identity(emulator, token);
        expect(body.devicePosture).toEqual(devicePosture);
        expect(body.is_warp).toBe(true);
      },
    );

    it('returns thousands of raw entries verbatim, until posture changes or a reset', async () => {
      const devicePosture = Object.fromEntries(
        Array.from({ length: 5000 }, (_, i) => [
          `rule-${i}`,
          {
            id: `rule-${i}`,
            rule_name: `Rule ${i}`,
            type: 'file',
            success: i % 2 === 0,
            timestamp: FIXED,
            description: '',
            error: '',
            check: { path: `/etc/${i}` },
            data: {},
          },
        ]),
      );
      const { token } = await login(emulator, { email: 'bob@example.com' });
      expect(
        (await admin(emulator).patch('bob@example.com', { devicePosture }))
          .status,
      ).toBe(200);
      const body = await identity(emulator, token);
      expect(body.devicePosture).toEqual(devicePosture);
      // A person without a device got one.
      expect(body.device_id).toBe(stableUuid('device', 'bob@example.com'));

      await admin(emulator).patch('bob@example.com', {
        posture: { only: { type: 'firewall', success: true } },
      });
      expect(
        Object.keys((await identity(emulator, token)).devicePosture),
      ).toEqual(['only']);

      const reset = await admin(emulator).reset('bob@example.com');
      expect(reset.status).toBe(200);
      expect(reset.body).toEqual({
        email: 'bob@example.com',
        country: 'FR',
        identityProvider: null,
        device: null,
        devicePosture: {},
      });
      const after = await identity(emulator, token);
      expect(after.devicePosture).toEqual({});
      expect(after).not.toHaveProperty('device_id');
    });

    it('removes a device, and resets everyone', async () => {
      const { token } = await login(emulator, { email: 'alice@example.com' });
      await admin(emulator).patch('bob@example.com', { warp: true });
      const removed = await admin(emulator).patch('alice@example.com', {
        removeDevice: true,
        country: 'us',
      });
      expect(removed.status).toBe(200);
      expect(removed.body.device).toBeNull();
      const body = await identity(emulator, token);
      expect(body).not.toHaveProperty('device_id');
      expect(body).toMatchObject({
        is_warp: false,
        is_gateway: false,
        device_sessions: {},
        devicePosture: {},
        geo: { country: 'US' },
      });

      const all = await admin(emulator).reset();
      expect(all.status).toBe(200);
      expect((await identity(emulator, token)).device_id).toBe('laptop-1');
      expect((await admin(emulator).get('bob@example.com')).body.device).toBe(
        null,
      );
    });

    it.each([
      [{ warp: 'yes' }, /^device: warp: expected true or false, got "yes"$/],
      [{ country: 'Brazil' }, /^device: country: expected a two-letter/],
      [{ explode: true }, /^device: unknown field "explode"/],
      [
        { posture: { 'rule-x': { success: true } } },
        /^device: posture\.rule-x: a new check needs type and success$/,
      ],
      [
        { posture: { 'disk-encryption-rule-id': { success: 'no' } } },
        /^device: posture\.disk-encryption-rule-id\.success: expected true or false, got "no"$/,
      ],
      [
        {
          posture: {
            'disk-encryption-rule-id': { timestamp: 'now', success: true },
          },
        },
        /timestamp: expected an ISO 8601 date and time/,
      ],
      [
        {
          posture: {
            'disk-encryption-rule-id': { timestamp: FIXED, ageSeconds: 3 },
          },
        },
        /ageSeconds: give either timestamp or ageSeconds, not both/,
      ],
      [
        { posture: [] },
        /^device: posture: expected an object keyed by posture rule id/,
      ],
      [{ removeDevice: true, warp: true }, /^device: removeDevice: not with/],
      [
        { devicePosture: {}, posture: {} },
        /^device: devicePosture: not with posture/,
      ],
      [{ identityProvider: { id: 'x' } }, /identityProvider\.type: required/],
    ])('refuses %j with 400, changing nothing', async (body, message) => {
      const res = await admin(emulator).patch('alice@example.com', body);
      expect(res.status).toBe(400);
      expect(res.body.err).toMatch(message);
      const now = await admin(emulator).get('alice@example.com');
      expect(now.body).toMatchObject({
        country: 'GB',
        device: { warp: true, rawDevicePosture: false },
      });
      expect(Object.keys(now.body.devicePosture)).toHaveLength(3);
    });

    it('refuses a bad email, a body that is not JSON, and invalid JSON', async () => {
      const bad = await admin(emulator).patch('not-an-email', { warp: true });
      expect(bad.status).toBe(400);
      expect(bad.body.err).toBe('not an email address: not-an-email');
      const text = await request(emulator.listenUrl)
        .patch('/cdn-cgi/emulator/users/alice@example.com/device')
        .set(ADMIN_HEADER, '1')
        .type('text')
        .send('warp=false');
      expect(text.status).toBe(400);
      expect(text.body.err).toMatch(/^device: must be a JSON object/);
      const broken = await request(emulator.listenUrl)
        .patch('/cdn-cgi/emulator/users/alice@example.com/device')
        .set(ADMIN_HEADER, '1')
        .type('json')
        .send('{"warp": fal');
      expect(broken.status).toBe(400);
      expect(broken.body.err).toMatch(/^invalid JSON body/);
      expect(emulator.getDevice('alice@example.com').device?.warp).toBe(true);
    });

    it('refuses callers without the admin header, or from another site', async () => {
      const { token } = await login(emulator, { email: 'alice@example.com' });
      const path = '/cdn-cgi/emulator/users/alice@example.com/device';
      const attempts = [
        request(emulator.listenUrl).patch(path).send({ warp: false }),
        request(emulator.listenUrl)
          .patch(path)
          .set(ADMIN_HEADER, '1')
          .set('Origin', 'https://evil.example')
          .send({ warp: false }),
        request(emulator.listenUrl).get(path),
        request(emulator.listenUrl).delete(path),
        request(emulator.listenUrl).delete('/cdn-cgi/emulator/devices'),
      ];
      for (const attempt of attempts) {
        const res = await attempt;
        expect(res.status).toBe(403);
        expect(res.body.err).toMatch(/admin|cross-origin/);
      }
      expect((await identity(emulator, token)).is_warp).toBe(true);
      // Same origin (the emulator's own page) is an admin caller without the header.
      const own = await request(emulator.listenUrl)
        .patch(path)
        .set('Origin', emulator.url)
        .send({ warp: false });
      expect(own.status).toBe(200);
      expect((await identity(emulator, token)).is_warp).toBe(false);
    });
  });

  describe('programmatic API', () => {
    it('reads, changes and resets devices like the admin endpoints', async () => {
      const { token } = await login(emulator, { email: 'alice@example.com' });
      expect(emulator.getDevice('ALICE@example.com').device?.id).toBe(
        'laptop-1',
      );
      emulator.updateDevice('alice@example.com', {
        warp: false,
        devicePosture: { raw: true },
      });
      expect(await identity(emulator, token)).toMatchObject({
        is_warp: false,
        devicePosture: { raw: true },
      });
      expect(() =>
        emulator.updateDevice('alice@example.com', { country: 'Nowhere' }),
      ).toThrow(/^device: country: expected a two-letter country code/);
      emulator.resetDevices('alice@example.com');
      expect((await identity(emulator, token)).is_warp).toBe(true);
    });

    it('refuses a bad device in the users option at start', async () => {
      await expect(
        startAccessEmulator({
          port: 0,
          users: [
            {
              email: 'x@example.com',
              device: { warp: 'yes' as unknown as boolean },
            },
          ],
        }),
      ).rejects.toThrow(
        /^options: users\[0\]\.device\.warp: expected true or false, got "yes"$/,
      );
    });
  });
});
