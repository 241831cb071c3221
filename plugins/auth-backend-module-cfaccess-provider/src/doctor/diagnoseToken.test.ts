import { base64url, decodeJwt } from 'jose';
import { startAccessEmulator } from '@cfaccess/access-emulator';
import {
  developmentConfig,
  Fixture,
  personClaims,
  SERVICE_TOKEN,
  startFixture,
} from './__testUtils__/doctorFixtures';
import { rawControls } from './__testUtils__/terminalText';
import { exitCodes } from './exitCodes';
import { renderHuman, renderJson } from './render';
import { DoctorReport, isSkipped, runDoctor } from './runDoctor';
import type { TokenDiagnosis } from './diagnoseToken';

let fixture: Fixture;
let configFile: string;

beforeAll(async () => {
  fixture = await startFixture();
  configFile = await fixture.writeConfig(
    'app-config.yaml',
    developmentConfig(fixture.emulator),
  );
});

afterAll(() => fixture.close());

async function doctor(
  token: string,
  options: { now?: () => number; configPaths?: string[] } = {},
): Promise<{ report: DoctorReport; token: TokenDiagnosis }> {
  const report = await runDoctor({
    configPaths: options.configPaths ?? [configFile],
    tokenSource: { token },
    env: {},
    now: options.now,
  });
  if (isSkipped(report.token)) {
    throw new Error(`token step skipped: ${report.token.skipped}`);
  }
  // Never the token, in either output.
  expect(renderHuman(report)).not.toContain(token);
  expect(renderJson(report)).not.toContain(token);
  expect(renderHuman(report)).not.toContain(token.split('.')[2]);
  return { report, token: report.token };
}

describe('diagnosing a token against the emulator', () => {
  it('accepts a person and shows what get-identity returns', async () => {
    const token = await fixture.emulator.mintUserToken('alice@example.com');
    const { report, token: diagnosis } = await doctor(token);
    expect(report.exitCode).toBe(exitCodes.ok);
    expect(diagnosis).toMatchObject({
      accepted: true,
      tokenType: 'user',
      subject: 'alice@example.com',
      identity: {
        status: 'ok',
        name: 'Alice Example',
        groups: ['engineering', 'admins'],
      },
      resolve: { status: 'skipped' },
    });
    expect(diagnosis.header.kid).toBe(decodeJwt(token) && diagnosis.header.kid);
    expect(diagnosis.claims.exp?.relative).toMatch(/^in 23 h 59 min$|^in 1 d$/);
  });

  it('says how long ago an expired token expired', async () => {
    const token = await fixture.emulator.mintUserToken('alice@example.com', {
      expiresInSeconds: -7200,
    });
    const { report, token: diagnosis } = await doctor(token);
    expect(report.exitCode).toBe(exitCodes.problems);
    expect(diagnosis.reason).toBe('expired');
    expect(diagnosis.hint).toBe(
      'sign in again through Cloudflare Access; check the clock of this server',
    );
    expect(diagnosis.explanation[0]).toMatch(/^the token expired 2 h ago/);
  });

  it('says a token is not valid yet when this clock is behind', async () => {
    const token = await fixture.emulator.mintUserToken('alice@example.com');
    const { token: diagnosis } = await doctor(token, {
      now: () => Date.now() - 10.5 * 60_000,
    });
    expect(diagnosis.reason).toBe('not_yet_valid');
    expect(diagnosis.explanation[0]).toMatch(
      /10 min from now by this machine's clock/,
    );
  });

  it('names the AUD tags of the token and of the config', async () => {
    const other = await fixture.writeConfig(
      'other-aud.yaml',
      'auth:\n  providers:\n    cfaccess:\n      audience: [another-aud-tag, third-aud-tag]\n',
    );
    const token = await fixture.emulator.mintUserToken('alice@example.com');
    const { token: diagnosis } = await doctor(token, {
      configPaths: [configFile, other],
    });
    expect(diagnosis.reason).toBe('wrong_audience');
    expect(diagnosis.explanation).toEqual([
      `the token carries the AUD tag ${fixture.emulator.audience[0]}`,
      expect.stringMatching(
        /^auth\.providers\.cfaccess\.audience is another-aud-tag, third-aud-tag: /,
      ),
    ]);
  });

  it('names the issuer when the team domain is spelled otherwise', async () => {
    const byAddress = await fixture.writeConfig(
      'by-address.yaml',
      `auth:\n  providers:\n    cfaccess:\n      teamDomain: http://127.0.0.1:${fixture.emulator.port}\n`,
    );
    const token = await fixture.emulator.mintUserToken('alice@example.com');
    const { token: diagnosis } = await doctor(token, {
      configPaths: [configFile, byAddress],
    });
    expect(diagnosis.reason).toBe('wrong_issuer');
    expect(diagnosis.explanation).toEqual([
      `the token was issued by ${fixture.emulator.issuer}`,
      `the configured team domain expects http://127.0.0.1:${fixture.emulator.port}: check teamName / teamDomain`,
    ]);
  });

  it("names an unknown kid and the team's kids", async () => {
    const other = await startAccessEmulator({
      port: 0,
      audience: fixture.emulator.audience,
    });
    try {
      const token = await other.mintUserToken('alice@example.com');
      const { token: diagnosis } = await doctor(token);
      expect(diagnosis.reason).toBe('unknown_kid');
      expect(diagnosis.explanation[0]).toContain(
        `the token's kid is ${diagnosis.header.kid}; the team's certs publish `,
      );
    } finally {
      await other.close();
    }
  });

  it('rejects an altered token as a bad signature', async () => {
    const token = await fixture.emulator.mintUserToken('alice@example.com');
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(
      new TextDecoder().decode(base64url.decode(payload)),
    );
    const altered = base64url.encode(
      JSON.stringify({ ...claims, email: 'mallory@example.com' }),
    );
    const { token: diagnosis } = await doctor(
      `${header}.${altered}.${signature}`,
    );
    expect(diagnosis.reason).toBe('bad_signature');
    expect(diagnosis.claims.email).toBe('mallory@example.com');
  });

  it('accepts a listed service token and names an unlisted one', async () => {
    const listed = await fixture.emulator.mintServiceToken(
      SERVICE_TOKEN.clientId,
    );
    const accepted = await doctor(listed);
    expect(accepted.token).toMatchObject({
      accepted: true,
      tokenType: 'service',
      subject: `service token ${SERVICE_TOKEN.clientId} as user:default/ci-bot`,
      identity: { status: 'not-applicable' },
    });

    const unlisted = await fixture.emulator.mintServiceToken(
      'ffffffffffffffffffffffffffffffff.access',
    );
    const { report, token: diagnosis } = await doctor(unlisted);
    expect(report.exitCode).toBe(exitCodes.problems);
    expect(diagnosis.reason).toBe('unknown_service_token');
    expect(diagnosis.explanation[0]).toBe(
      "the service token's Client ID ffffffffffffffffffffffffffffffff.access is not one of the 1 listed in auth.providers.cfaccess.serviceTokens: add it with its subject to let it sign in",
    );
    expect(renderHuman(report)).not.toContain(SERVICE_TOKEN.clientSecret);
  });

  it('names a person without email', async () => {
    const { email: _email, ...claims } = personClaims(fixture.emulator);
    const { token: diagnosis } = await doctor(await fixture.sign(claims));
    expect(diagnosis.reason).toBe('missing_claims');
    expect(diagnosis.explanation[0]).toMatch(
      /^a person's token \(sub 5a0b7f8e-0000-5000-8000-000000000001\) without an email claim/,
    );
  });

  it("escapes control characters in a crafted token's claims", async () => {
    const token = await fixture.sign({
      ...personClaims(fixture.emulator),
      iss: 'https://evil.example\u001b[2J\u001b]0;pwned\u0007',
    });
    const { report, token: diagnosis } = await doctor(token);
    expect(diagnosis.reason).toBe('wrong_issuer');
    expect(rawControls(renderHuman(report))).toEqual([]);
    expect(diagnosis.claims.iss).toContain('\\u001b[2J');
  });

  it('rejects the organisation token (type org)', async () => {
    const token = await fixture.sign({
      ...personClaims(fixture.emulator),
      type: 'org',
    });
    const { token: diagnosis } = await doctor(token);
    expect(diagnosis.reason).toBe('wrong_token_type');
  });

  it('rejects a token signed with another algorithm', async () => {
    const token = await fixture.sign(personClaims(fixture.emulator), {
      alg: 'PS256',
    });
    const { token: diagnosis } = await doctor(token);
    expect(diagnosis.reason).toBe('unsupported_alg');
    expect(diagnosis.explanation).toEqual([
      'the token is signed with PS256, not RS256',
    ]);
  });

  it('says why get-identity gave nothing, and the token is still accepted', async () => {
    fixture.emulator.setFaults({ identityStatus: 500 });
    try {
      const token = await fixture.emulator.mintUserToken('alice@example.com');
      const { report, token: diagnosis } = await doctor(token);
      expect(report.exitCode).toBe(exitCodes.ok);
      expect(diagnosis.identity).toEqual({
        status: 'unavailable',
        message: expect.stringContaining('get-identity answered HTTP 500'),
      });
    } finally {
      fixture.emulator.clearFaults();
    }
  });
});
