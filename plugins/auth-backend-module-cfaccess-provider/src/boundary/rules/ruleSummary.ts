import type { AccessRule } from './accessRule';

/** The WARP client's default posture reporting interval. */
export const WARP_POSTURE_INTERVAL_MS = 5 * 60_000;

const seconds = (ms: number) =>
  ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;

/** A rule in one line, for the doctor and the startup log. */
export function ruleSummary(rule: AccessRule): string {
  const needs: string[] = [];
  if (rule.peopleOnly) {
    needs.push('a person');
  }
  if (rule.accessApplication !== undefined) {
    needs.push(`Access application ${rule.accessApplication}`);
  }
  if (rule.countries) {
    needs.push(`country ${[...rule.countries].join('/')}`);
  }
  if (rule.identityProviders) {
    needs.push(`identity provider ${[...rule.identityProviders].join('/')}`);
  }
  if (rule.warp) {
    needs.push('WARP');
  }
  for (const posture of rule.devicePosture) {
    needs.push(
      `posture ${posture.name ?? posture.ruleId}${
        posture.maxAgeMs === undefined
          ? ''
          : ` within ${seconds(posture.maxAgeMs)}`
      }`,
    );
  }
  const identity = rule.needsIdentity
    ? ` (get-identity at most ${seconds(rule.identityMaxAgeMs)} old)`
    : '';
  const onBehalf = rule.refuseCallsOnBehalfOfPeople
    ? '; plugin calls on behalf of a person refused'
    : '';
  const who =
    rule.appliesTo === undefined
      ? ''
      : ` (${rule.appliesTo === 'people' ? 'people' : 'service tokens'} only)`;
  return `${rule.label}: ${rule.match.join(', ')}${who} needs ${needs.join(
    ', ',
  )}${identity}${onBehalf}`;
}

/** What the doctor warns about a rule: a posture age the WARP client cannot keep up with. */
export function ruleWarnings(rule: AccessRule): string[] {
  return rule.devicePosture
    .filter(
      posture =>
        posture.maxAgeMs !== undefined &&
        posture.maxAgeMs < WARP_POSTURE_INTERVAL_MS,
    )
    .map(
      posture =>
        `boundary rule "${rule.label}": posture ${
          posture.name ?? posture.ruleId
        } must have passed within ${seconds(
          posture.maxAgeMs!,
        )}, but the WARP client reports posture every 5 min by default: most requests will be refused with posture_stale unless the check runs more often`,
    );
}
