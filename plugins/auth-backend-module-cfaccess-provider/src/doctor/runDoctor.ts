/*
 * One doctor run: the config stack, then (unless offline) the team domain,
 * then the token if one was given. Each step is skipped, with the reason,
 * when an earlier one leaves nothing to check.
 */
import { DEFAULT_PROVIDER_ID, providerConfigKey } from '../config/providerId';
import { exitCodes, ExitCode } from './exitCodes';
import { inspectConfig, ConfigInspection } from './inspectConfig';
import { loadConfigStack } from './loadConfigStack';
import { checkTeamDomain, TeamDomainCheck } from './checkTeamDomain';
import { diagnoseToken, TokenDiagnosis } from './diagnoseToken';
import { readToken, TokenSource } from './readToken';

export type DoctorOptions = {
  configPaths: string[];
  /** The id the provider is registered under (`--provider-id`); default the module's, `cfaccess`. */
  providerId?: string;
  tokenSource?: TokenSource;
  offline?: boolean;
  resolve?: boolean;
  backendUrl?: string;
  backendToken?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  now?: () => number;
  fetch?: typeof fetch;
};

export type Skipped = { skipped: string };

export type DoctorReport = {
  exitCode: ExitCode;
  config: ConfigInspection & { files: string[] };
  teamDomain: TeamDomainCheck | Skipped;
  token: TokenDiagnosis | Skipped;
};

export function isSkipped(value: object): value is Skipped {
  return 'skipped' in value;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const stack = await loadConfigStack({
    configPaths: options.configPaths,
    env: options.env,
    cwd: options.cwd,
  });
  const providerId = options.providerId ?? DEFAULT_PROVIDER_ID;
  // Only to take the token out of a cookie string; a bad value is the config check's to report.
  const cookieName = stack.config.getOptional(
    `${providerConfigKey(providerId)}.authorizationCookieName`,
  );
  // Read before any network call: bad input is a usage error, whatever else is wrong.
  const token = await readToken({
    ...options.tokenSource,
    cookieName:
      typeof cookieName === 'string' && cookieName.trim()
        ? cookieName.trim()
        : undefined,
  });
  const inspection = await inspectConfig(stack, providerId);
  const config = {
    ...inspection,
    files: stack.sources.map(s => s.name),
  };
  const report = (
    exitCode: ExitCode,
    teamDomain: DoctorReport['teamDomain'],
    tokenResult: DoctorReport['token'],
  ): DoctorReport => ({ exitCode, config, teamDomain, token: tokenResult });
  const noToken: Skipped = {
    skipped: 'no token given (--token-file, standard input or --token)',
  };

  const cfg = inspection.config;
  if (!cfg || !inspection.providerConfig) {
    const skipped = { skipped: 'the config has problems; fix them first' };
    return report(exitCodes.problems, skipped, token ? skipped : noToken);
  }
  if (options.offline) {
    const skipped = { skipped: 'offline (--offline)' };
    return report(exitCodes.ok, skipped, token ? skipped : noToken);
  }

  const teamDomain = await checkTeamDomain(cfg, {
    now: options.now,
    fetch: options.fetch,
  });
  if (!teamDomain.ok) {
    return report(
      exitCodes.unreachable,
      teamDomain,
      token
        ? { skipped: "the team domain's signing keys are unavailable" }
        : noToken,
    );
  }
  if (!token) {
    return report(exitCodes.ok, teamDomain, noToken);
  }

  const diagnosis = await diagnoseToken({
    token,
    providerId,
    rootConfig: stack.config,
    providerConfig: inspection.providerConfig,
    config: cfg,
    teamKids: teamDomain.keys
      .filter(k => k.usable && k.kid)
      .map(k => k.kid as string),
    resolve: options.resolve
      ? { backendUrl: options.backendUrl, backendToken: options.backendToken }
      : undefined,
    now: options.now,
    fetch: options.fetch,
  });
  let exitCode: ExitCode = exitCodes.ok;
  if (diagnosis.reason === 'keys_unavailable') {
    exitCode = exitCodes.unreachable;
  } else if (
    !diagnosis.accepted ||
    diagnosis.resolve.status === 'not-signed-in'
  ) {
    exitCode = exitCodes.problems;
  }
  return report(exitCode, teamDomain, diagnosis);
}
