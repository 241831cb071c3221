import { z } from 'zod/v3';
import type { CloudflareAccessPostureResult } from '../types';

/**
 * Most posture results read from one answer. Real teams have a few dozen
 * posture rules; results beyond this are dropped, which can only make a rule
 * that needs them refuse.
 */
export const MAX_POSTURE_RESULTS = 256;

const postureResultSchema = z.object({
  rule_name: z.string().catch(''),
  type: z.string().catch(''),
  // Only the boolean true passes: "true", 1 or a missing value do not.
  success: z.boolean().catch(false),
  // A date-time without a time zone would be read in the server's own.
  timestamp: z.string().datetime({ offset: true }).optional().catch(undefined),
});

function postureResult(
  ruleId: string,
  value: unknown,
): CloudflareAccessPostureResult {
  const parsed = postureResultSchema.safeParse(value);
  if (!parsed.success) {
    // Not an object: a result that did not pass, with nothing else known.
    return { ruleId, name: '', type: '', success: false };
  }
  const { rule_name: name, type, success, timestamp } = parsed.data;
  const checkedAt = timestamp === undefined ? NaN : Date.parse(timestamp);
  return {
    ruleId,
    name,
    type,
    success,
    ...(Number.isFinite(checkedAt) && { checkedAt }),
  };
}

/**
 * get-identity's `devicePosture` (an object keyed by posture rule id) as a
 * list, read leniently: anything but an object is no results, and a result
 * of the wrong shape did not pass.
 */
export function readDevicePosture(
  value: unknown,
): CloudflareAccessPostureResult[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return [];
  }
  const results: CloudflareAccessPostureResult[] = [];
  for (const ruleId in value) {
    if (!Object.prototype.hasOwnProperty.call(value, ruleId)) {
      continue;
    }
    if (results.length === MAX_POSTURE_RESULTS) {
      break;
    }
    results.push(
      postureResult(ruleId, (value as Record<string, unknown>)[ruleId]),
    );
  }
  return results;
}
