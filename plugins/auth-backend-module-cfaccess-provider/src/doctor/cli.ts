/*
 * The `cfaccess` command: `cfaccess doctor …`. Commander parses the flags;
 * every failure becomes one line on stderr and an exit code, never a stack
 * trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { exitCodes, exitCodesHelp } from './exitCodes';
import { renderHuman, renderJson } from './render';
import { runDoctor } from './runDoctor';
import { UsageError } from './usageError';

/**
 * Where {@link runCfAccessCli} reads and writes: the process's by default.
 *
 * @public
 */
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
      // Errors are printed once, as one line, by runCfAccessCli.
      outputError: () => {},
    });
  program
    .command('doctor')
    .description(
      "Explains why Cloudflare Access sign-in fails: loads the config stack as the backend does, checks the auth.providers.cfaccess settings with the module's own rules, checks the team domain's signing keys and clock, and verifies a token exactly as the backend would.",
    )
    .addOption(
      new Option(
        '-c, --config <file>',
        'a config file, in loading order like the backend (repeat it); default app-config.yaml and app-config.local.yaml in the working directory',
      ).argParser(collect),
    )
    .option(
      '--token <jwt>',
      'the Access application token to verify: the JWT, the CF_Authorization cookie value, a "CF_Authorization=<jwt>" cookie string, or the output of cloudflared access token; "-" reads standard input (which is also read when it is not a terminal)',
    )
    .option('--token-file <path>', 'read the token from a file')
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
      `\n${exitCodesHelp}\n\nNothing printed contains the token or a secret: the token's header and claims are shown instead.\n\nExamples:\n  cfaccess doctor --config app-config.yaml --config app-config.production.yaml\n  cloudflared access token -app=https://backstage.example.com | cfaccess doctor -c app-config.yaml\n  cfaccess doctor -c app-config.yaml --token-file token.txt --resolve --backend-url http://localhost:7007\n`,
    )
    .action(async (flags: DoctorFlags) => run(flags));
  return program;
}

/**
 * Runs the `cfaccess` command with `argv` (as `process.argv`) and resolves
 * with its exit code.
 *
 * @public
 */
export async function runCfAccessCli(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const stdin = io.stdin ?? process.stdin;
  const env = io.env ?? process.env;
  let exitCode: number = exitCodes.ok;
  const program = createProgram(io, async flags => {
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
      tokenSource: { token: flags.token, tokenFile: flags.tokenFile, stdin },
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
      io.stderr.write(
        `cfaccess: ${error.message.replace(
          /^error: /,
          '',
        )} (see cfaccess doctor --help)\n`,
      );
      return exitCodes.usage;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`cfaccess doctor: ${error.message}\n`);
      return exitCodes.usage;
    }
    io.stderr.write(
      `cfaccess doctor: unexpected failure: ${
        (error as Error)?.message ?? String(error)
      }\n`,
    );
    return exitCodes.problems;
  }
}
