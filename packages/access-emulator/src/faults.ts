/*
 * Fault injection for tests: latency and error statuses on the certs and get-identity endpoints, plus a
 * hang for get-identity.
 */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { parseWithSchema, strictObject } from './schemas';

function integer(min: number, max: number) {
  const range = `must be an integer from ${min} to ${max}`;
  return z
    .number({ invalid_type_error: range })
    .int(range)
    .min(min, range)
    .max(max, range)
    .nullish()
    .transform(v => v ?? undefined);
}

const MAX_DELAY_MS = 10 * 60 * 1000;
const faultsSchema = strictObject(
  {
    /** Delay before answering certs and get-identity, in milliseconds. */
    latencyMs: integer(0, MAX_DELAY_MS),
    /** Status code certs answers with instead of the keys. */
    certsStatus: integer(200, 599),
    /** Status code get-identity answers with instead of the identity. */
    identityStatus: integer(200, 599),
    /** Extra delay for get-identity only, in milliseconds (simulates a hang). */
    identityHangMs: integer(0, MAX_DELAY_MS),
  },
  'must be a JSON object',
);

export type Faults = z.output<typeof faultsSchema>;

/** Validates a faults object (e.g. a JSON body); throws an Error naming the field. */
export function validateFaults(value: unknown): Faults {
  const faults = parseWithSchema(faultsSchema, value, 'faults');
  return Object.fromEntries(
    Object.entries(faults).filter(([, v]) => v !== undefined),
  );
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
