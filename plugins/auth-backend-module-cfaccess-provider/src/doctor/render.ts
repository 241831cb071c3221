/*
 * The doctor's output: lines for people, or one JSON document (`--json`) for
 * scripts. Both are built from the report only, which holds claims and
 * settings, never the token or a secret. Both are escaped as a whole where
 * they are written: the report carries what an identity provider, a token
 * or a config file says, and none of it may drive the terminal.
 */
import type { JsonValue } from '@backstage/types';
import { escapeAfterJson, escapeForTerminal } from '../lib/logValue';
import type { TeamDomainCheck } from './checkTeamDomain';
import type { TokenDiagnosis } from './diagnoseToken';
import { exitCodes } from './exitCodes';
import { BoundaryInspection, BOUNDARY_SETTINGS_PREFIX } from './inspectConfig';
import { DoctorReport, isSkipped } from './runDoctor';

const value = (v: JsonValue | undefined) =>
  v === undefined ? '' : JSON.stringify(v);

const count = (n: number, one: string, many: string) =>
  n === 0 ? `no ${many}` : `${n} ${n === 1 ? one : many}`;

/**
 * The boundary in one line (its mode and where it comes from, what it lets through without Access), then
 * one line per rule: each its own line, so that escaping a line keeps the rules apart.
 */
function boundaryLines(boundary: BoundaryInspection): string[] {
  const from =
    boundary.modeSource === 'default'
      ? 'default'
      : `from ${boundary.modeSource}`;
  const without = boundary.externalAccessWithoutAccess.length;
  const summary = `  Access boundary: ${boundary.mode} (${from}), ${count(
    boundary.exemptPaths,
    'exempt path',
    'exempt paths',
  )}${
    without > 0
      ? `, ${count(
          without,
          'external access subject',
          'external access subjects',
        )} without Access`
      : ''
  }${
    boundary.rules.length > 0
      ? `, ${count(boundary.rules.length, 'rule', 'rules')}`
      : ''
  }; applies when the backend uses withCloudflareAccessBoundary()`;
  return [summary, ...boundary.rules.map(rule => `    rule ${rule}`)];
}

function configLines(report: DoctorReport): string[] {
  const { config } = report;
  const lines = [
    `Config: ${config.files.join(', ') || 'no files'}`,
    `  rules: ${config.mode.development ? 'development' : 'production'} (${
      config.mode.reason
    }${config.mode.nodeEnv ? `; NODE_ENV ${config.mode.nodeEnv}` : ''})`,
  ];
  // Defaults in one line, with the boundary's lists when they are not set
  // (the boundary line says what they amount to); --json lists every setting.
  const isBoundaryKey = (key: string) =>
    key.includes(`.${BOUNDARY_SETTINGS_PREFIX}`);
  const shownSettings = config.settings.filter(
    s =>
      s.source !== 'default' &&
      !(s.source === 'not set' && isBoundaryKey(s.key)),
  );
  const defaults = config.settings.length - shownSettings.length;
  const width = Math.max(...shownSettings.map(s => s.key.length));
  for (const setting of shownSettings) {
    const shown =
      setting.value === undefined
        ? '(not set)'
        : `${value(setting.value)}${
            setting.source === 'default' ? ' (default)' : ''
          }`;
    const from =
      setting.source === 'default' || setting.source === 'not set'
        ? ''
        : `  from ${setting.source}`;
    lines.push(`  ${setting.key.padEnd(width)}  ${shown}${from}`);
  }
  if (defaults > 0) {
    lines.push(
      `  (${defaults} more settings at their defaults; --json lists them)`,
    );
  }
  if (config.boundary) {
    lines.push(...boundaryLines(config.boundary));
  }
  for (const problem of config.problems) {
    lines.push(`  problem: ${problem}`);
  }
  for (const warning of config.warnings) {
    lines.push(`  warning: ${warning}`);
  }
  if (config.problems.length === 0) {
    lines.push('  ok: the backend starts with this config');
  }
  return lines;
}

function teamDomainLines(check: TeamDomainCheck): string[] {
  const lines = [`Team domain: ${check.certsUrl}`];
  if (check.error) {
    lines.push(`  problem: ${check.error}`);
  } else {
    const usable = check.keys.filter(k => k.usable);
    lines.push(
      `  ok: certs answered in ${check.elapsedMs} ms with ${
        usable.length
      } RS256 signing key${usable.length === 1 ? '' : 's'}: ${usable
        .map(k => k.kid)
        .join(', ')}`,
    );
    lines.push(
      `  public_cert: ${check.publicCert ?? '(none)'}; public_certs: ${
        check.publicCerts?.length ?? 0
      }`,
    );
  }
  if (check.clockSkewSeconds !== undefined) {
    lines.push(
      `  clock: this machine is ${Math.abs(check.clockSkewSeconds)} s ${
        check.clockSkewSeconds >= 0 ? 'ahead of' : 'behind'
      } the team domain (Date ${check.serverDate})`,
    );
  }
  for (const warning of check.warnings) {
    lines.push(`  warning: ${warning}`);
  }
  return lines;
}

function tokenLines(token: TokenDiagnosis): string[] {
  const { header, claims } = token;
  const time = (name: 'iat' | 'nbf' | 'exp') => {
    const t = claims[name];
    return t ? `${name} ${t.iso ?? t.seconds} (${t.relative})` : `${name} -`;
  };
  const lines = [
    'Token (never printed; its header and claims):',
    `  header: alg ${header.alg ?? '-'}, kid ${header.kid ?? '-'}, typ ${
      header.typ ?? '-'
    }`,
    `  iss ${claims.iss ?? '-'}`,
    `  aud ${claims.aud.join(', ') || '-'}`,
    `  type ${claims.type ?? '-'}, sub ${claims.sub || '""'}, ${
      claims.common_name
        ? `common_name ${claims.common_name}`
        : `email ${claims.email ?? '-'}`
    }`,
    `  ${time('iat')}, ${time('nbf')}, ${time('exp')}`,
  ];
  if (!token.accepted) {
    lines.push(`  problem: rejected (${token.reason}): ${token.sentence}`);
    lines.push(`    detail: ${token.detail}`);
    for (const line of token.explanation) {
      lines.push(`    why: ${line}`);
    }
    lines.push(`    hint: ${token.hint}`);
    return lines;
  }
  lines.push(
    `  ok: accepted: ${token.tokenType === 'service' ? '' : 'a person, '}${
      token.subject
    }; expires in ${token.expiresIn}`,
  );
  const identity = token.identity;
  if (identity?.status === 'ok') {
    lines.push(
      `  identity (get-identity): ${identity.name} <${
        identity.email
      }>, groups: ${identity.groups.join(', ') || '(none)'}${
        identity.idp ? `, idp ${identity.idp.type}` : ''
      }`,
    );
  } else if (identity?.status === 'unavailable') {
    lines.push(
      `  warning: get-identity unavailable, sign-in continues with the token's claims and no groups: ${identity.message}`,
    );
  } else if (identity?.status === 'disabled') {
    lines.push('  identity: get-identity is off (identity.enabled: false)');
  }
  const resolve = token.resolve;
  if (resolve.status === 'signed-in') {
    lines.push(
      `  ok: sign-in: ${resolve.resolver} signs them in as ${
        resolve.entityRef
      } (ownership: ${resolve.ownershipEntityRefs.join(', ')})`,
    );
  } else if (resolve.status === 'not-signed-in') {
    lines.push(
      `  problem: sign-in fails${
        resolve.reason ? ` (${resolve.reason})` : ''
      }: ${resolve.message}`,
    );
  } else {
    lines.push(`  sign-in: skipped, ${resolve.message}`);
  }
  return lines;
}

const verdicts: Record<number, string> = {
  [exitCodes.ok]: 'no problems found',
  [exitCodes.problems]: 'problems found',
  [exitCodes.unreachable]: 'Cloudflare Access could not be reached',
};

export function renderHuman(report: DoctorReport): string {
  const sections = [configLines(report)];
  sections.push(
    isSkipped(report.teamDomain)
      ? [`Team domain: skipped, ${report.teamDomain.skipped}`]
      : teamDomainLines(report.teamDomain),
  );
  sections.push(
    isSkipped(report.token)
      ? [`Token: skipped, ${report.token.skipped}`]
      : tokenLines(report.token),
  );
  sections.push([
    `Result: ${verdicts[report.exitCode]} (exit ${report.exitCode})`,
  ]);
  // Each line on its own: a value with a newline in it stays on its line.
  return `${sections
    .map(s => s.map(escapeForTerminal).join('\n'))
    .join('\n\n')}\n`;
}

export function renderJson(report: DoctorReport): string {
  const {
    providerConfig: _config,
    config: _settings,
    ...config
  } = report.config;
  return `${escapeAfterJson(JSON.stringify({ ...report, config }, null, 2))}\n`;
}
