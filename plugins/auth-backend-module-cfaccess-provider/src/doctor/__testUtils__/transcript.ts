/*
 * The doctor page's transcript (docs/doctor.md, "Troubleshooting with
 * doctor"): the real command, spawned against the emulator on a fixed port,
 * with a development config and a production override that has two classic
 * mistakes (and runs the Access boundary in report mode). `yarn
 * doctor:transcript` writes it into the page; a test checks the page still
 * matches (after masking what changes per run: kids, times).
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAccessEmulator } from '@cfaccess/access-emulator';

export const TRANSCRIPT_START = '<!-- doctor-transcript:start -->';
export const TRANSCRIPT_END = '<!-- doctor-transcript:end -->';
/** The Markdown page that holds the transcript, between the markers. */
export const DOCTOR_PAGE = path.resolve(__dirname, '../../../docs/doctor.md');
const BIN = path.resolve(__dirname, '../../../bin/cfaccess');

const AUD = '3229737e86243ada50bcb70d1cfc20bf316b858f6080942aaf06157d8b01f667';

const files = (port: number): Record<string, string> => ({
  'app-config.yaml': `auth:
  environment: development
  providers:
    cfaccess:
      teamDomain: http://localhost:${port}
      audience: ${AUD}
      signIn:
        resolvers:
          - resolver: emailMatchingUserEntityProfileEmail
`,
  'app-config.production.yaml': `auth:
  environment: production
  providers:
    cfaccess:
      audience: \${CF_ACCESS_AUD}
      boundary:
        mode: report
`,
});

function run(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', d => (out += d));
    child.stderr.on('data', d => (out += d));
    child.on('error', reject);
    child.on('close', code => resolve(`${out}$ echo $?\n${code}\n`));
  });
}

/** The transcript as Markdown (config files, then each command and its output). */
export async function generateTranscript(port: number): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfaccess-transcript-'));
  const emulator = await startAccessEmulator({
    port,
    users: [
      {
        email: 'alice@example.com',
        name: 'Alice Example',
        groups: ['engineering'],
      },
    ] as any,
  });
  try {
    const configs = files(emulator.port);
    for (const [name, yaml] of Object.entries(configs)) {
      await fs.writeFile(path.join(dir, name), yaml);
    }
    await fs.writeFile(
      path.join(dir, 'expired.txt'),
      await emulator.mintUserToken('alice@example.com', {
        expiresInSeconds: -2 * 3600,
      }),
    );
    const fresh = await emulator.mintUserToken('alice@example.com');
    await fs.writeFile(
      path.join(dir, 'token.txt'),
      `CF_Authorization=${fresh}`,
    );

    const commands: Array<{ title: string; args: string[] }> = [
      {
        title:
          'The production stack: which file each value comes from, and what would stop the backend',
        args: [
          'doctor',
          '--config',
          'app-config.yaml',
          '--config',
          'app-config.production.yaml',
        ],
      },
      {
        title:
          'An expired token (the `CF_Authorization` cookie value in a file)',
        args: [
          'doctor',
          '--config',
          'app-config.yaml',
          '--token-file',
          'expired.txt',
        ],
      },
      {
        title: 'A good token: who it signs in and what get-identity returns',
        args: [
          'doctor',
          '--config',
          'app-config.yaml',
          '--token-file',
          'token.txt',
        ],
      },
    ];
    const parts = [
      'With the Access emulator as the team domain (`app-config.yaml`) and a production override that forgot the',
      'team domain and whose `${CF_ACCESS_AUD}` is not set in this shell, and that runs the Access boundary in',
      '`report` mode (`app-config.production.yaml`):',
      '',
      ...Object.entries(configs).flatMap(([name, yaml]) => [
        '```yaml',
        `# ${name}`,
        yaml.trimEnd(),
        '```',
        '',
      ]),
    ];
    for (const command of commands) {
      const output = await run(command.args, dir);
      parts.push(
        `${command.title}:`,
        '',
        '```console',
        `$ yarn cfaccess ${command.args.join(' ')}`,
        output.trimEnd(),
        '```',
        '',
      );
    }
    return parts.join('\n');
  } finally {
    await emulator.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** What differs between runs (kids, dates, durations, the port), masked for comparison. */
export function normalizeTranscript(text: string): string {
  return text
    .replace(/[0-9a-f]{64}/g, '<kid>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/\d+ ms/g, '<n> ms')
    .replace(/\b(in )?\d+ (s|min|h|d)( \d+ (min|h))?( ago)?/g, '<duration>')
    .replace(
      /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
      '<uuid>',
    )
    .replace(/localhost:\d+/g, 'localhost:<port>')
    .replace(/ +$/gm, '');
}

/** The transcript block of the doctor page, between the markers. */
export function pageTranscript(page: string): string {
  const start = page.indexOf(TRANSCRIPT_START);
  const end = page.indexOf(TRANSCRIPT_END);
  if (start < 0 || end < start) {
    throw new Error(`${DOCTOR_PAGE} has no doctor transcript markers`);
  }
  return page.slice(start + TRANSCRIPT_START.length, end).trim();
}
