/*
 * The `cfaccess` command: `cfaccess doctor …`. Commander parses the flags;
 * every failure becomes one line on stderr and an exit code, never a stack
 * trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_PROVIDER_ID, isProviderId } from '../config/providerId';
import { escapeForTerminal } from '../lib/logValue';
import { exitCodes, exitCodesHelp } from './exitCodes';
import { renderHuman, renderJson } from './render';
import { runDoctor } from './runDoctor';
import { UsageError } from './usageError';

/** Where {@link runCli} reads and writes; tests give their own. */
export type CliIo = {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  env?: Record<string, string | undefined>;
  /** Relative paths are read from here; default the working directory. */
  cwd?: string;
};

const BACKEND_TOKEN_ENV = 'CFACCESS_DOCTOR_BACKEND_TOKEN';

type DoctorFlags = {
  config: string[];
  providerId: string;
  token?: string;
  tokenFile?: string;
  json?: boolean;
  offline?: boolean;
  resolve?: boolean;
  backendUrl?: string;
  backendToken?: string;
};

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  value,
];

function createProgram(io: CliIo, run: (flags: DoctorFlags) => Promise<void>) {
  const program = new Command('cfaccess')
    .description(
      'Tools for the Cloudflare Access sign-in of Backstage (@cfaccess/plugin-auth-backend-module-cfaccess-provider)',
    )
    .exitOverride()
    .configureOutput({
      writeOut: text => io.stdout.write(text),
      writeErr: text => io.stderr.write(text),
      // Errors are printed once, as one line, by runCli.
      outputError: () => {},
    });
  program
    .command('doctor')
    .description(
      "Explains why Cloudflare Access sign-in fails: loads the config stack as the backend does, checks the auth.providers.<provider-id> settings with the module's own rules, checks the team domain's signing keys and clock, and verifies a token exactly as the backend would.",
    )
    .addOption(
      new Option(
        '-c, --config <file>',
        'a config file, in loading order like the backend (repeat it); default app-config.yaml and app-config.local.yaml in the working directory',
      ).argParser(collect),
    )
    .option(
      '--provider-id <id>',
      'the id the provider is registered under, whose config is auth.providers.<id> (a custom module may register it under another id)',
      DEFAULT_PROVIDER_ID,
    )
    .option(
      '--token-file <path>',
      'the Access application token to verify, read from a file: the JWT, the CF_Authorization cookie value, a "CF_Authorization=<jwt>" cookie string, or the output of cloudflared access token. Standard input is read the same way when it is not a terminal',
    )
    .option(
      '--token <jwt>',
      'the token as an argument ("-" reads standard input); prefer --token-file or standard input: an argument stays in shell history and the process list',
    )
    .option(
      '--resolve',
      'also run the configured sign-in resolvers against the catalog (needs --backend-url)',
    )
    .option(
      '--backend-url <url>',
      'the Backstage backend whose catalog --resolve asks, e.g. http://localhost:7007',
    )
    .option(
      '--backend-token <token>',
      `a token the catalog accepts (e.g. a static external-access token); default the environment variable ${BACKEND_TOKEN_ENV}, which keeps it out of the process list. Never printed`,
    )
    .option('--offline', 'check the config only: no request to the team domain')
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      `\n${exitCodesHelp}\n\nNothing printed contains the token or a secret: the token's header and claims are shown instead.\n\nExamples:\n  cfaccess doctor --config app-config.yaml --config app-config.production.yaml\n  cloudflared access token -app=https://backstage.example.com | cfaccess doctor -c app-config.yaml\n  cfaccess doctor -c app-config.yaml --token-file token.txt --resolve --backend-url http://localhost:7007\n  cfaccess doctor -c app-config.yaml --provider-id cloudflare --offline\n`,
    )
    .action(async (flags: DoctorFlags) => run(flags));
  return program;
}

/**
 * Runs the `cfaccess` command with `argv` (as `process.argv`) on the
 * process's streams, and resolves with its exit code.
 *
 * @public
 */
export async function runCfAccessCli(argv: string[]): Promise<number> {
  return runCli(argv, { stdout: process.stdout, stderr: process.stderr });
}

/** {@link runCfAccessCli} with its io given: how tests run the command in-process. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const stdin = io.stdin ?? process.stdin;
  const env = io.env ?? process.env;
  // Messages echo what was given (a file name, a flag's value): one line, shown, never acted on.
  const fail = (message: string) =>
    io.stderr.write(`${escapeForTerminal(message)}\n`);
  let exitCode: number = exitCodes.ok;
  const program = createProgram(io, async flags => {
    if (!isProviderId(flags.providerId)) {
      throw new UsageError(
        `--provider-id must be a provider id such as ${DEFAULT_PROVIDER_ID} (a letter, then letters and digits, parts joined by -, _ or :), got ${JSON.stringify(
          flags.providerId,
        )}`,
      );
    }
    if (flags.resolve && !flags.backendUrl) {
      throw new UsageError('--resolve needs --backend-url');
    }
    if (flags.backendUrl && !URL.canParse(flags.backendUrl)) {
      throw new UsageError(
        `--backend-url must be a URL such as http://localhost:7007, got ${JSON.stringify(
          flags.backendUrl,
        )}`,
      );
    }
    const report = await runDoctor({
      configPaths: flags.config ?? [],
      providerId: flags.providerId,
      tokenSource: {
        token: flags.token,
        tokenFile: flags.tokenFile,
        cwd: io.cwd,
        stdin,
      },
      offline: flags.offline,
      resolve: flags.resolve,
      backendUrl: flags.backendUrl,
      backendToken: flags.backendToken ?? env[BACKEND_TOKEN_ENV],
      env,
      cwd: io.cwd,
    });
    io.stdout.write(flags.json ? renderJson(report) : renderHuman(report));
    exitCode = report.exitCode;
  });
  if (argv.length <= 2) {
    program.outputHelp();
    return exitCodes.usage;
  }
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.help' ||
        error.code === 'commander.version'
      ) {
        return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
      }
      fail(
        `cfaccess: ${error.message.replace(
          /^error: /,
          '',
        )} (see cfaccess doctor --help)`,
      );
      return exitCodes.usage;
    }
    if (error instanceof UsageError) {
      fail(`cfaccess doctor: ${error.message}`);
      return exitCodes.usage;
    }
    fail(
      `cfaccess doctor: unexpected failure: ${
        (error as Error)?.message ?? String(error)
      }`,
    );
    return exitCodes.problems;
  }
}
