/*
 * get-identity's device fields, from the person's facts at the time of the answer (not of the login):
 * geo.country, idp, is_warp, is_gateway, device_id, device_sessions and devicePosture, in Cloudflare's
 * shapes.
 */
import type { DeviceFacts, PersonFacts } from './deviceStates';
import type { AccessIdentity } from './identities';

/** One entry of `devicePosture`, as Access reports a posture check. */
export interface DevicePostureResult {
  id: string;
  rule_name: string;
  type: string;
  success: boolean;
  /** ISO 8601, e.g. `2026-12-07T10:00:00.000Z`. */
  timestamp: string;
  description: string;
  error: string;
  check: Record<string, unknown>;
  data: Record<string, unknown>;
}

/** `devicePosture` at `now` (ms): keyed by posture rule id, or an admin's raw value verbatim. */
export function devicePostureOf(
  device: DeviceFacts | undefined,
  now: number,
): unknown {
  if (!device) {
    return {};
  }
  if (device.rawPosture) {
    return device.rawPosture.value;
  }
  return Object.fromEntries(
    device.posture.map((check): [string, DevicePostureResult] => [
      check.id,
      {
        id: check.id,
        rule_name: check.name,
        type: check.type,
        success: check.success,
        timestamp:
          check.timestamp ??
          new Date(now - (check.ageSeconds ?? 0) * 1000).toISOString(),
        description: check.description,
        error: check.error,
        check: {},
        data: {},
      },
    ]),
  );
}

/** The identity recorded at login, with the person's device facts as they are `now` (ms). */
export function withDeviceFacts(
  identity: AccessIdentity,
  facts: PersonFacts,
  now: number,
): AccessIdentity {
  const { device } = facts;
  const { device_id: _recorded, ...recorded } = identity;
  return {
    ...recorded,
    idp: { ...(facts.identityProvider ?? identity.idp) },
    geo: { ...identity.geo, country: facts.country },
    is_warp: device?.warp ?? false,
    is_gateway: device?.gateway ?? false,
    ...(device && { device_id: device.id }),
    device_sessions: device
      ? Object.fromEntries([[device.id, { last_authenticated: identity.iat }]])
      : {},
    devicePosture: devicePostureOf(device, now),
  };
}
