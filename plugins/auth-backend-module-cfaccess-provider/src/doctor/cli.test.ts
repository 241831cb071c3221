/*
 * The real command, spawned as an operator runs it (the bin, from source
 * through Backstage's Node transform), against the emulator.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  developmentConfig,
  Fixture,
  SERVICE_TOKEN,
  startFixture,
} from './__testUtils__/doctorFixtures';

const BIN = path.resolve(__dirname, '../../bin/cfaccess');

let fixture: Fixture;
beforeAll(async () => {
  fixture = await startFixture();
  await fixture.writeConfig(
    'app-config.yaml',
    developmentConfig(fixture.emulator),
  );
});
afterAll(() => fixture.close());

function run(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: fixture.dir,
      env: { PATH: process.env.PATH, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    child.on('error', reject);
    child.on('close', code => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

const exactly = (text: string) =>
  new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

/** One line, no stack trace. */
function expectOneLine(stderr: string) {
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('cfaccess doctor, spawned', () => {
  it('verifies a token from standard input and prints JSON without the token', async () => {
    const token = await fixture.emulator.mintUserToken('alice@example.com');
    const { code, stdout, stderr } = await run(
      ['doctor', '--config', 'app-config.yaml', '--json'],
      { stdin: `${token}\n` },
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toContain(token);
    const report = JSON.parse(stdout);
    expect(Object.keys(report)).toEqual([
      'exitCode',
      'config',
      'teamDomain',
      'token',
    ]);
    expect(Object.keys(report.config).sort()).toEqual([
      'boundary',
      'files',
      'mode',
      'problems',
      'settings',
      'warnings',
    ]);
    expect(report.config.files).toEqual(['app-config.yaml']);
    expect(report.config.boundary).toEqual({
      mode: 'enforce',
      modeSource: 'default',
      exemptPaths: 0,
      externalAccessWithoutAccess: [],
      rules: [],
    });
    expect(report.teamDomain).toMatchObject({ ok: true });
    expect(report.token).toMatchObject({
      accepted: true,
      tokenType: 'user',
      subject: 'alice@example.com',
      identity: { status: 'ok', name: 'Alice Example' },
    });
  }, 60_000);

  it('exits 1 for a rejected token, taken from a cookie string', async () => {
    const token = await fixture.emulator.mintServiceToken(
      'ffffffffffffffffffffffffffffffff.access',
    );
    const { code, stdout } = await run([
      'doctor',
      '-c',
      'app-config.yaml',
      '--token',
      `theme=dark; CF_Authorization=${token}`,
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain(
      'problem: rejected (unknown_service_token): This service token is not allowed to sign in.',
    );
    expect(stdout).toContain('Result: problems found (exit 1)');
    expect(stdout).not.toContain(token);
    expect(stdout).not.toContain(SERVICE_TOKEN.clientSecret);
  }, 60_000);

  it('exits 3 when the team domain is unreachable', async () => {
    await fixture.writeConfig(
      'unreachable.yaml',
      'auth:\n  providers:\n    cfaccess:\n      teamDomain: http://127.0.0.1:9\n',
    );
    const { code, stdout } = await run([
      'doctor',
      '-c',
      'app-config.yaml',
      '-c',
      'unreachable.yaml',
    ]);
    expect(code).toBe(3);
    expect(stdout).toMatch(
      /problem: http:\/\/127\.0\.0\.1:9\/cdn-cgi\/access\/certs did not answer/,
    );
  }, 60_000);

  it.each([
    [
      ['doctor', '--no-such-flag'],
      "cfaccess: unknown option '--no-such-flag' (see cfaccess doctor --help)",
    ],
    [
      ['doctor', '-c', 'missing.yaml'],
      /^cfaccess doctor: cannot load the config: .*missing\.yaml/,
    ],
    [
      ['doctor', '-c', 'app-config.yaml', '--token', 'not-a-jwt'],
      /^cfaccess doctor: the token is not a JWT/,
    ],
    [
      ['doctor', '-c', 'app-config.yaml', '--token-file', 'nope.txt'],
      'cfaccess doctor: cannot read the token file nope.txt: ENOENT',
    ],
    [['doctor', '--resolve'], 'cfaccess doctor: --resolve needs --backend-url'],
  ])(
    'bad input %j: one line, exit 2',
    async (args, message) => {
      const { code, stdout, stderr } = await run(args);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expectOneLine(stderr);
      expect(stderr.trim()).toMatch(
        typeof message === 'string' ? exactly(message) : message,
      );
    },
    60_000,
  );

  it('documents every flag and the exit codes in --help', async () => {
    const { code, stdout } = await run(['doctor', '--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--config',
      '--token',
      '--token-file',
      '--resolve',
      '--backend-url',
      '--backend-token',
      '--offline',
      '--json',
    ]) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toMatch(
      /Exit codes:\n\s+0 .*\n(.*\n)*\s+1 .*\n(.*\n)*\s+2 .*\n(.*\n)*\s+3 /,
    );
  }, 60_000);
});
