/*
 * Each person's device facts as they are now: country, identity provider, and the device (WARP, Gateway,
 * posture checks). The users file's until the login page or an admin change replaces them; get-identity
 * reads them at every answer, and a login takes its token's country from them.
 */
import { z } from 'zod';
import {
  type EmulatorDevice,
  type EmulatorIdentityProvider,
  ageSeconds,
  countryCode,
  identityProviderSchema,
  isoTimestamp,
  timestampOrAge,
} from './devices';
import { NO_VALUE, nonEmptyString, parseWithSchema } from './schemas';
import { stableUuid } from './tokens';
import { type EmulatorUser, normalizeEmail } from './users';

/** A posture check with every default filled in. */
export interface PostureCheckState {
  id: string;
  name: string;
  type: string;
  success: boolean;
  description: string;
  error: string;
  /** A fixed time (ISO 8601); else `ageSeconds` before each answer; else the time of the answer. */
  timestamp?: string;
  ageSeconds?: number;
}

export interface DeviceFacts {
  id: string;
  warp: boolean;
  gateway: boolean;
  posture: PostureCheckState[];
  /** Given by an admin: get-identity's `devicePosture` verbatim, whatever it is. */
  rawPosture?: { value: unknown };
}

export interface PersonFacts {
  /** The token's `country` (at login) and get-identity's `geo.country`. */
  country: string;
  /** Set by an admin: replaces the login's `idp` in get-identity. */
  identityProvider?: EmulatorIdentityProvider;
  /** None: no `device_id`, `is_warp: false`, `devicePosture: {}`. */
  device?: DeviceFacts;
}

/** A change to one posture check; a new check needs `type` and `success`. */
export interface PostureCheckPatch {
  name?: string;
  type?: string;
  success?: boolean;
  /** ISO 8601; `null`: the time of each answer. Replaces `ageSeconds`. */
  timestamp?: string | null;
  /** `null`: the time of each answer. Replaces `timestamp`. */
  ageSeconds?: number | null;
  description?: string;
  error?: string;
}

/** A change to a person's device facts (the admin endpoint's JSON body). */
export interface DevicePatch {
  /** `device_id`. */
  id?: string;
  warp?: boolean;
  gateway?: boolean;
  country?: string;
  /** `null`: back to the login's identity provider. */
  identityProvider?: EmulatorIdentityProvider | null;
  /** By posture rule id: a change, a new check, or `null` to remove it. */
  posture?: Record<string, PostureCheckPatch | null>;
  /** Any JSON: get-identity returns it as `devicePosture`, verbatim, until `posture` changes or a reset. */
  devicePosture?: unknown;
  /** Take the device away (before the other changes; not with device fields). */
  removeDevice?: true;
}

const bool = z.boolean({ invalid_type_error: 'expected true or false' });

const checkPatchSchema = z
  .object(
    {
      name: nonEmptyString().optional(),
      type: nonEmptyString().optional(),
      success: bool.optional(),
      timestamp: isoTimestamp().nullable().optional(),
      ageSeconds: ageSeconds().nullable().optional(),
      description: z.string({ invalid_type_error: 'expected a string' }),
      error: z.string({ invalid_type_error: 'expected a string' }),
    },
    { invalid_type_error: 'expected a check ({ success, ... }) or null' },
  )
  .partial({ description: true, error: true })
  .strict(
    'allowed: name, type, success, timestamp, ageSeconds, description, error',
  )
  .superRefine(timestampOrAge);

const DEVICE_FIELDS = ['id', 'warp', 'gateway', 'posture', 'devicePosture'];

const devicePatchSchema = z
  .object(
    {
      id: nonEmptyString().optional(),
      warp: bool.optional(),
      gateway: bool.optional(),
      country: countryCode().optional(),
      identityProvider: identityProviderSchema.nullable().optional(),
      posture: z
        .record(checkPatchSchema.nullable(), {
          invalid_type_error: 'expected an object keyed by posture rule id',
        })
        .optional(),
      devicePosture: z.unknown(),
      removeDevice: z
        .literal(true, { errorMap: () => ({ message: 'expected true' }) })
        .optional(),
    },
    {
      invalid_type_error: 'must be a JSON object',
      required_error: 'must be a JSON object (Content-Type: application/json)',
    },
  )
  .strict(
    'allowed: id, warp, gateway, country, identityProvider, posture, devicePosture, removeDevice',
  );

type ValidPatch = Omit<z.output<typeof devicePatchSchema>, 'devicePosture'> & {
  devicePosture?: { value: unknown };
};

/** Checks a device patch (e.g. a JSON body); throws an Error naming the field. */
export function validateDevicePatch(value: unknown): ValidPatch {
  const { devicePosture, ...patch } = parseWithSchema(
    devicePatchSchema.superRefine((p, ctx) => {
      const raw = Object.prototype.hasOwnProperty.call(p, 'devicePosture');
      const conflict = (path: string, message: string) =>
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [path],
          message,
          params: NO_VALUE,
        });
      if (p.removeDevice && DEVICE_FIELDS.some(f => f in p)) {
        conflict('removeDevice', `not with ${DEVICE_FIELDS.join(', ')}`);
      }
      if (raw && p.posture !== undefined) {
        conflict('devicePosture', 'not with posture (give one or the other)');
      }
    }),
    value,
    'device',
  );
  const hasRaw =
    typeof value === 'object' &&
    value !== null &&
    Object.prototype.hasOwnProperty.call(value, 'devicePosture');
  return hasRaw ? { ...patch, devicePosture: { value: devicePosture } } : patch;
}

function deviceFacts(email: string, device: EmulatorDevice = {}): DeviceFacts {
  return {
    id: device.id ?? stableUuid('device', normalizeEmail(email)),
    warp: device.warp ?? false,
    gateway: device.gateway ?? false,
    posture: (device.posture ?? []).map(check => ({
      id: check.id,
      name: check.name ?? check.id,
      type: check.type,
      success: check.success,
      description: check.description ?? '',
      error: check.error ?? '',
      ...(check.timestamp !== undefined && { timestamp: check.timestamp }),
      ...(check.ageSeconds !== undefined && { ageSeconds: check.ageSeconds }),
    })),
  };
}

/** The facts of a person as the users file gives them (or the defaults for anyone else). */
export function initialFacts(
  email: string,
  user: EmulatorUser | undefined,
  defaultCountry: string,
): PersonFacts {
  return {
    country: user?.country ?? defaultCountry,
    ...(user?.device && { device: deviceFacts(email, user.device) }),
  };
}

function patchCheck(
  id: string,
  current: PostureCheckState | undefined,
  patch: PostureCheckPatch,
): PostureCheckState {
  const { timestamp, ageSeconds: age, ...rest } = patch;
  const base = current ?? {
    id,
    name: id,
    type: patch.type,
    success: patch.success,
    description: '',
    error: '',
  };
  if (base.type === undefined || base.success === undefined) {
    throw new Error(
      `device: posture.${id}: a new check needs type and success`,
    );
  }
  const next: PostureCheckState = {
    ...(base as PostureCheckState),
    ...Object.fromEntries(
      Object.entries(rest).filter(([, v]) => v !== undefined),
    ),
  };
  if (timestamp !== undefined || age !== undefined) {
    delete next.timestamp;
    delete next.ageSeconds;
    if (timestamp) next.timestamp = timestamp;
    if (age !== undefined && age !== null) next.ageSeconds = age;
  }
  return next;
}

/** The facts after a patch; the facts given are not changed. Throws for a new check without type. */
export function applyDevicePatch(
  email: string,
  facts: PersonFacts,
  patch: ValidPatch,
): PersonFacts {
  const next: PersonFacts = { ...facts };
  if (patch.country !== undefined) {
    next.country = patch.country;
  }
  if (patch.identityProvider === null) {
    delete next.identityProvider;
  } else if (patch.identityProvider !== undefined) {
    next.identityProvider = { ...patch.identityProvider };
  }
  if (patch.removeDevice) {
    delete next.device;
  }
  const { id, warp, gateway, posture, devicePosture } = patch;
  if ([id, warp, gateway, posture, devicePosture].every(v => v === undefined)) {
    return next;
  }
  const device: DeviceFacts = { ...(next.device ?? deviceFacts(email)) };
  if (id !== undefined) device.id = id;
  if (warp !== undefined) device.warp = warp;
  if (gateway !== undefined) device.gateway = gateway;
  if (posture !== undefined) {
    const checks = new Map(device.posture.map(c => [c.id, c]));
    for (const [checkId, change] of Object.entries(posture)) {
      if (change === null) {
        checks.delete(checkId);
      } else {
        checks.set(checkId, patchCheck(checkId, checks.get(checkId), change));
      }
    }
    device.posture = [...checks.values()];
    delete device.rawPosture;
  }
  if (devicePosture !== undefined) {
    device.rawPosture = devicePosture;
  }
  next.device = device;
  return next;
}

const MAX_CHANGED = 10_000;

/** The current facts of every person: the users file's, or what changed them since (bounded). */
export class DeviceStates {
  readonly #changed = new Map<string, PersonFacts>();

  constructor(
    private readonly users: EmulatorUser[],
    private readonly defaultCountry: string,
  ) {}

  get(email: string): PersonFacts {
    const key = normalizeEmail(email);
    return (
      this.#changed.get(key) ??
      initialFacts(
        key,
        this.users.find(u => u.email === key),
        this.defaultCountry,
      )
    );
  }

  /** Validates and applies a patch (all or nothing); throws an Error naming the field. */
  update(email: string, patch: unknown): PersonFacts {
    const key = normalizeEmail(email);
    const next = applyDevicePatch(
      key,
      this.get(key),
      validateDevicePatch(patch),
    );
    this.#changed.delete(key);
    this.#changed.set(key, next);
    if (this.#changed.size > MAX_CHANGED) {
      this.#changed.delete(this.#changed.keys().next().value as string);
    }
    return next;
  }

  /** Back to the users file: one person, or everyone. */
  reset(email?: string) {
    if (email === undefined) {
      this.#changed.clear();
    } else {
      this.#changed.delete(normalizeEmail(email));
    }
  }
}
