/*
 * The command's flags and its messages, run in this process (cli.test.ts
 * spawns the bin itself).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as doctorEntry from './index';
import { exitCodes } from './exitCodes';
import { runInProcess } from './__testUtils__/runInProcess';
import { rawControls } from './__testUtils__/terminalText';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfaccess-cli-'));
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

async function write(name: string, text: string) {
  await fs.writeFile(path.join(dir, name), text);
}
const run = (args: string[], env?: Record<string, string>) =>
  runInProcess(args, { cwd: dir, env });

const otherProvider = `auth:
  providers:
    other:
      teamName: myteam
      audience: aud
      signIn:
        resolvers:
          - resolver: emailMatchingUserEntityProfileEmail
`;

describe('--provider-id', () => {
  it('inspects a provider a custom module registers under another id', async () => {
    await write('app-config.yaml', otherProvider);
    const { code, stdout, stderr } = await run([
      'doctor',
      '--offline',
      '--json',
      '--provider-id',
      'other',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(exitCodes.ok);
    const report = JSON.parse(stdout);
    expect(report.config.problems).toEqual([]);
    expect(report.config.warnings).toEqual([]);
    expect(report.config.settings).toContainEqual({
      key: 'auth.providers.other.teamName',
      value: 'myteam',
      source: 'app-config.yaml',
    });
    expect(
      report.config.settings.filter((s: { key: string }) =>
        s.key.startsWith('auth.providers.cfaccess'),
      ),
    ).toEqual([]);
  });

  it('defaults to cfaccess', async () => {
    await write('app-config.yaml', otherProvider);
    const { code, stdout } = await run(['doctor', '--offline', '--json']);
    expect(code).toBe(exitCodes.problems);
    expect(JSON.parse(stdout).config.problems[0]).toMatch(
      /^auth\.providers\.cfaccess is required: /,
    );
  });

  it('refuses an id that is no config key', async () => {
    const { code, stdout, stderr } = await run([
      'doctor',
      '--provider-id',
      'a.b',
    ]);
    expect(code).toBe(exitCodes.usage);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'cfaccess doctor: --provider-id must be a provider id such as cfaccess (a letter, then letters and digits, parts joined by -, _ or :), got "a.b"\n',
    );
  });
});

describe('the Access boundary in the output', () => {
  const cfaccess = (boundary = '') => `auth:
  providers:
    cfaccess:
      teamName: myteam
      audience: aud
${boundary}      signIn:
        resolvers:
          - resolver: emailMatchingUserEntityProfileEmail
`;

  it('shows the mode and the exempt paths in one line, not the lists that are not set', async () => {
    await write('app-config.yaml', cfaccess());
    const { code, stdout } = await run(['doctor', '--offline']);
    expect(code).toBe(exitCodes.ok);
    expect(stdout).toContain(
      '  Access boundary: enforce (default), no exempt paths; applies when the backend uses withCloudflareAccessBoundary()\n',
    );
    expect(stdout).not.toContain('boundary.exemptPaths');
    expect(stdout).not.toContain(
      'boundary.dangerouslyAllowExternalAccessWithoutAccess',
    );
  });

  it('names the file that sets the mode, and counts what passes without Access', async () => {
    await write('app-config.yaml', cfaccess());
    await write(
      'app-config.production.yaml',
      `auth:
  providers:
    cfaccess:
      boundary:
        mode: report
        exemptPaths: [/api/events/http/*, /api/webhook]
        dangerouslyAllowExternalAccessWithoutAccess: [ci-bot]
`,
    );
    const args = [
      'doctor',
      '--offline',
      '-c',
      'app-config.yaml',
      '-c',
      'app-config.production.yaml',
    ];
    const { code, stdout } = await run(args);
    expect(code).toBe(exitCodes.ok);
    expect(stdout).toContain(
      '  Access boundary: report (from app-config.production.yaml), 2 exempt paths, 1 external access subject without Access; applies when',
    );
    expect(stdout).toMatch(
      /auth\.providers\.cfaccess\.boundary\.exemptPaths +\["\/api\/events\/http\/\*","\/api\/webhook"\] +from app-config\.production\.yaml/,
    );
    expect(stdout).toContain(
      '  warning: auth.providers.cfaccess.boundary.dangerouslyAllowExternalAccessWithoutAccess lets the backend.auth.externalAccess subject "ci-bot" call',
    );
    const json = JSON.parse((await run([...args, '--json'])).stdout);
    expect(json.config.boundary).toEqual({
      mode: 'report',
      modeSource: 'app-config.production.yaml',
      exemptPaths: 2,
      externalAccessWithoutAccess: ['ci-bot'],
      rules: [],
    });
  });

  it('reports a bad value as a problem naming the key, and exits 1', async () => {
    await write(
      'app-config.yaml',
      cfaccess('      boundary:\n        exemptPaths: [api/events/*]\n'),
    );
    const { code, stdout } = await run(['doctor', '--offline']);
    expect(code).toBe(exitCodes.problems);
    expect(stdout).toContain(
      '  problem: auth.providers.cfaccess.boundary.exemptPaths[0] must start with /, got "api/events/*"\n',
    );
    expect(stdout).not.toContain('Access boundary:');
    expect(stdout).not.toContain('ok: the backend starts');
  });
});

describe('the help', () => {
  it('prefers --token-file or standard input to a token on the command line', async () => {
    const { code, stdout } = await run(['doctor', '--help']);
    expect(code).toBe(exitCodes.ok);
    expect(stdout).toContain('--provider-id <id>');
    // --token still works, with the reason not to use it.
    expect(stdout).toMatch(
      /--token <jwt> +[^]*shell history and the process list/,
    );
    const examples = stdout.slice(stdout.indexOf('Examples:'));
    expect(examples).toMatch(/--token-file /);
    expect(examples).toMatch(/cloudflared access token .*\| cfaccess doctor/);
    expect(examples).not.toMatch(/--token /);
  });
});

describe('what reaches the terminal', () => {
  it('escapes a file name in an error message on stderr', async () => {
    await write('app-config.yaml', otherProvider);
    const name = 'token\u001b]0;pwned\u0007\u009b2J\nResult: no problems found';
    const { code, stderr } = await run([
      'doctor',
      '--offline',
      '--token-file',
      name,
    ]);
    expect(code).toBe(exitCodes.usage);
    expect(rawControls(stderr)).toEqual([]);
    expect(stderr.trimEnd().split('\n')).toEqual([
      'cfaccess doctor: cannot read the token file token\\u001b]0;pwned\\u0007\\u009b2J\\u000aResult: no problems found: ENOENT',
    ]);
  });

  it('escapes a value echoed in a usage error', async () => {
    const { stderr } = await run([
      'doctor',
      '--backend-url',
      'http://\u009b31m\u202eevil',
    ]);
    expect(rawControls(stderr)).toEqual([]);
    expect(stderr).toContain('\\u009b31m\\u202eevil');
  });

  it('escapes config values and file names', async () => {
    const file = 'app-config\u001b[2J.yaml';
    await write(
      file,
      `auth:
  providers:
    cfaccess:
      teamName: myteam
      audience: "aud\\e]0;pwned\\a"
      jwtHeaderName: "x\\u009b31m\\u2028y"
`,
    );
    const human = await run(['doctor', '--offline', '-c', file]);
    expect(rawControls(human.stdout)).toEqual([]);
    expect(human.stdout).toContain('Config: app-config\\u001b[2J.yaml');
    expect(human.stdout).toContain(
      'auth.providers.cfaccess.jwtHeaderName is not a valid header name: x\\u009b31m\\u2028y',
    );
    const json = await run(['doctor', '--offline', '--json', '-c', file]);
    expect(rawControls(json.stdout)).toEqual([]);
    const report = JSON.parse(json.stdout);
    expect(report.config.files).toEqual([file]);
    expect(report.config.settings).toContainEqual(
      expect.objectContaining({
        key: 'auth.providers.cfaccess.jwtHeaderName',
        value: 'x\u009b31m\u2028y',
      }),
    );
  });

  it('shows a team domain without the credentials in it', async () => {
    await write(
      'app-config.yaml',
      `auth:
  providers:
    cfaccess:
      teamDomain: https://user:s3cret@myteam.cloudflareaccess.com
      audience: aud
`,
    );
    const human = await run(['doctor', '--offline']);
    expect(human.stdout).toMatch(
      /auth\.providers\.cfaccess\.teamDomain +"https:\/\/\*\*\*@myteam\.cloudflareaccess\.com" +from app-config\.yaml/,
    );
    expect(human.stdout).toContain(
      'problem: auth.providers.cfaccess.teamDomain must not contain credentials',
    );
    const json = await run(['doctor', '--offline', '--json']);
    expect(`${human.stdout}${json.stdout}`).not.toContain('s3cret');
    expect(JSON.parse(json.stdout).config.settings).toContainEqual({
      key: 'auth.providers.cfaccess.teamDomain',
      value: 'https://***@myteam.cloudflareaccess.com',
      source: 'app-config.yaml',
    });
  });
});

describe('the ./doctor entry', () => {
  it('runs the command on the process streams, its io internal', () => {
    expect(Object.keys(doctorEntry)).toEqual(['runCfAccessCli']);
    // Type checks only, never called: a second argument is no longer accepted.
    const _withIo = () =>
      // @ts-expect-error the io is internal (runCli in ./cli)
      doctorEntry.runCfAccessCli([], {
        stdout: process.stdout,
        stderr: process.stderr,
      });
    expect(_withIo).toBeDefined();
    // @ts-expect-error CliIo is internal: tests take it from ./cli
    type PublicCliIo = import('./index').CliIo;
    const io: PublicCliIo | undefined = undefined;
    expect(io).toBeUndefined();
  });
});
