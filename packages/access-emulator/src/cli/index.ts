/*
 * The cfaccess-emulator command line: parses the flags, starts the emulator, prints where to go, and
 * stops cleanly on SIGINT/SIGTERM.
 */
import { Command } from 'commander';
import {
  DEFAULT_AUD,
  DEFAULT_BACKEND_URL,
  DEFAULT_COUNTRY,
  DEFAULT_FRONTEND_URL,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_SESSION_DURATION,
  DEFAULT_STATE_DIR,
} from '../defaults';
import { type AccessEmulatorOptions, startAccessEmulator } from '../server';
import { bannerLines } from './banner';
import { addManagedOAuthOptions, managedOAuthFromCli } from './oauth';
import { addIdentityProviderOptions, loginOptionsFromCli } from './oidc';
import {
  TLS_CERTIFICATES_COMMAND,
  addTlsOptions,
  createTlsCertificatesProgram,
  tlsOptionsFromCli,
} from './tls';
import { collect, duration, integer } from './values';

export function createProgram(): Command {
  const program = new Command('cfaccess-emulator')
    .description(
      'A local stand-in for Cloudflare Access: one origin that signs users in and proxies the Backstage frontend and backend with Cf-Access-Jwt-Assertion.',
    )
    .option(
      '-p, --port <port>',
      'port to listen on (0 = any free port)',
      integer(0, 65535),
      DEFAULT_PORT,
    )
    .option(
      '--host <host>',
      'interface to listen on (loopback only, unless --dangerously-allow-network-access)',
      DEFAULT_HOST,
    )
    .option(
      '--dangerously-allow-network-access',
      'allow a --host that is not loopback: anyone who can reach the port can sign in as any user',
      false,
    )
    .option(
      '--public-url <url>',
      'URL browsers use; its origin is the token issuer (default: http://localhost:<port>, https:// with --tls-cert)',
    )
    .option('--frontend-url <url>', 'frontend origin', DEFAULT_FRONTEND_URL)
    .option(
      '--backend-url <url>',
      'backend origin (paths /api/ and /.backstage/); repeat or comma-separate to balance several round-robin',
      collect(DEFAULT_BACKEND_URL),
      DEFAULT_BACKEND_URL,
    )
    .option(
      '--change-origin',
      'rewrite Host to the origin host instead of keeping the public Host',
      false,
    )
    .option(
      '--users <file>',
      'YAML file with users and service tokens (see users.example.yaml)',
    )
    .option(
      '--aud <tag>',
      `Application Audience tag; repeat or comma-separate for several (default: ${DEFAULT_AUD})`,
      collect(),
    )
    .option(
      '--session-duration <duration>',
      'token lifetime: seconds, or e.g. 24h, 30m, PT24H',
      duration,
      DEFAULT_SESSION_DURATION,
    )
    .option(
      '--state-dir <dir>',
      'directory for the signing keys (JWK files, mode 0600)',
      DEFAULT_STATE_DIR,
    )
    .option(
      '--country <code>',
      'country claim for users without one',
      DEFAULT_COUNTRY,
    )
    .option(
      '--latency-ms <ms>',
      'fault: delay certs and get-identity',
      integer(0, 600000),
    )
    .option(
      '--certs-status <status>',
      'fault: certs answers with this status',
      integer(200, 599),
    )
    .option(
      '--identity-status <status>',
      'fault: get-identity answers with this status',
      integer(200, 599),
    )
    .option(
      '--identity-hang-ms <ms>',
      'fault: extra delay for get-identity',
      integer(0, 600000),
    )
    .option('-q, --quiet', 'do not log requests', false);
  return addManagedOAuthOptions(
    addTlsOptions(addIdentityProviderOptions(program)),
  );
}

const out = (line = '') => process.stdout.write(`${line}\n`);

async function startFromCli(args: string[]) {
  const program = createProgram();
  const opts = program.parse(args, { from: 'user' }).opts();
  const options: AccessEmulatorOptions = {
    port: opts.port,
    host: opts.host,
    dangerouslyAllowNetworkAccess: opts.dangerouslyAllowNetworkAccess,
    publicUrl: opts.publicUrl,
    frontendUrl: opts.frontendUrl,
    backendUrl: opts.backendUrl,
    changeOrigin: opts.changeOrigin,
    usersFile: opts.users,
    audience: opts.aud,
    sessionDuration: opts.sessionDuration,
    stateDir: opts.stateDir,
    country: opts.country,
    ...loginOptionsFromCli(
      opts,
      name => program.getOptionValueSource(name),
      message => program.error(`error: ${message}`),
    ),
    faults: {
      latencyMs: opts.latencyMs,
      certsStatus: opts.certsStatus,
      identityStatus: opts.identityStatus,
      identityHangMs: opts.identityHangMs,
    },
    log: opts.quiet
      ? undefined
      : line => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
    tls: await tlsOptionsFromCli(opts),
    managedOAuth: managedOAuthFromCli(
      opts,
      name => program.getOptionValueSource(name),
      message => program.error(`error: ${message}`),
    ),
  };
  const emulator = await startAccessEmulator(options);
  bannerLines(emulator, options).forEach(line => out(line));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    out(`Received ${signal}, stopping`);
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

export async function runCli(argv: string[] = process.argv): Promise<void> {
  // `yarn workspace ... start -- --users x` passes the `--` through: drop it.
  const args = argv.slice(argv[2] === '--' ? 3 : 2);
  try {
    if (args[0] === TLS_CERTIFICATES_COMMAND) {
      await createTlsCertificatesProgram(out).parseAsync(args.slice(1), {
        from: 'user',
      });
    } else {
      await startFromCli(args);
    }
  } catch (error: any) {
    process.stderr.write(`cfaccess-emulator: ${error.message}\n`);
    process.exitCode = 1;
  }
}
