/*
 * Fault injection for tests: latency and error statuses on the certs and
 * get-identity endpoints, plus a hang for get-identity.
 */
import type { RequestHandler } from 'express';

export interface Faults {
  /** Delay before answering certs and get-identity, in milliseconds. */
  latencyMs?: number;
  /** Status code certs answers with instead of the keys. */
  certsStatus?: number;
  /** Status code get-identity answers with instead of the identity. */
  identityStatus?: number;
  /** Extra delay for get-identity only, in milliseconds (simulates a hang). */
  identityHangMs?: number;
}

const FIELDS = [
  'latencyMs',
  'certsStatus',
  'identityStatus',
  'identityHangMs',
] as const;
const MAX_DELAY_MS = 10 * 60 * 1000;

/** Validates a faults object (e.g. a JSON body); throws with a clear message. */
export function validateFaults(value: unknown): Faults {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('faults must be a JSON object');
  }
  const input = value as Record<string, unknown>;
  const faults: Faults = {};
  for (const key of Object.keys(input)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw new Error(`unknown fault "${key}" (allowed: ${FIELDS.join(', ')})`);
    }
  }
  for (const key of FIELDS) {
    const v = input[key];
    if (v === undefined || v === null) {
      continue;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new Error(`${key} must be an integer`);
    }
    if (key.endsWith('Status')) {
      if (v < 200 || v > 599) {
        throw new Error(`${key} must be an HTTP status between 200 and 599`);
      }
    } else if (v < 0 || v > MAX_DELAY_MS) {
      throw new Error(`${key} must be between 0 and ${MAX_DELAY_MS}`);
    }
    faults[key] = v;
  }
  return faults;
}

export class FaultState {
  #faults: Faults = {};

  get(): Faults {
    return { ...this.#faults };
  }

  /** Replaces the active faults. */
  set(faults: Faults) {
    this.#faults = validateFaults(faults);
  }

  clear() {
    this.#faults = {};
  }
}

function sleep(ms: number) {
  return new Promise<void>(resolve => setTimeout(resolve, ms).unref());
}

/**
 * Applies the active faults to an endpoint: waits, then either answers with
 * the injected status or passes on to the real handler.
 */
export function applyFaults(
  state: FaultState,
  endpoint: 'certs' | 'identity',
): RequestHandler {
  return async (req, res, next) => {
    const faults = state.get();
    const delay =
      (faults.latencyMs ?? 0) +
      (endpoint === 'identity' ? faults.identityHangMs ?? 0 : 0);
    if (delay > 0) {
      await sleep(delay);
      if (req.socket.destroyed) {
        return;
      }
    }
    const status =
      endpoint === 'certs' ? faults.certsStatus : faults.identityStatus;
    if (status !== undefined && status !== 200) {
      res
        .status(status)
        .json({ err: `injected fault: ${endpoint} answers ${status}` });
      return;
    }
    next();
  };
}
