import type { AccessRule } from './accessRule';
import { matchesRequest, ruleSegments } from './requestPattern';

/** The configured rules, and which of them a request is for. */
export class AccessRules {
  constructor(readonly rules: readonly AccessRule[]) {}

  get size(): number {
    return this.rules.length;
  }

  /** Every rule with a pattern that names the request: it must meet them all. */
  matching(method: string | undefined, path: string): AccessRule[] {
    if (this.rules.length === 0) {
      return [];
    }
    const upper = (method ?? 'GET').toUpperCase();
    const readings = ruleSegments(path);
    return this.rules.filter(rule =>
      rule.patterns.some(pattern =>
        readings.some(segments => matchesRequest(pattern, upper, segments)),
      ),
    );
  }
}
