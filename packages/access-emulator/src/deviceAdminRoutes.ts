/*
 * Admin endpoints for people's devices, under /cdn-cgi/emulator/ (so behind the edge's admin rules):
 *
 *   GET    /cdn-cgi/emulator/users/<email>/device   the facts now
 *   PATCH  /cdn-cgi/emulator/users/<email>/device   change them (JSON, see DevicePatch)
 *   DELETE /cdn-cgi/emulator/users/<email>/device   back to the users file
 *   DELETE /cdn-cgi/emulator/devices                everyone back to the users file
 */
import express, { type Request, type Response, Router } from 'express';
import type { EmulatorContext } from './context';
import { devicePostureOf } from './deviceIdentity';
import type { PersonFacts } from './deviceStates';
import { isValidEmail, normalizeEmail } from './users';

/** Large enough for a raw `devicePosture` with thousands of entries. */
const BODY_LIMIT = '8mb';

/** What the endpoints answer: the facts, and the `devicePosture` get-identity would answer now. */
export function deviceView(email: string, facts: PersonFacts, now: number) {
  const { device } = facts;
  return {
    email,
    country: facts.country,
    identityProvider: facts.identityProvider ?? null,
    device: device
      ? {
          id: device.id,
          warp: device.warp,
          gateway: device.gateway,
          posture: device.posture,
          rawDevicePosture: device.rawPosture !== undefined,
        }
      : null,
    devicePosture: devicePostureOf(device, now),
  };
}

export function createDeviceAdminRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const path = '/cdn-cgi/emulator/users/:email/device';

  /** The email of the path, or a 400 answer. */
  const emailOf = (req: Request, res: Response): string | undefined => {
    const email = normalizeEmail(String(req.params.email));
    if (!isValidEmail(email)) {
      res.status(400).json({ err: `not an email address: ${email}` });
      return undefined;
    }
    return email;
  };
  const answer = (res: Response, email: string) =>
    res.json(deviceView(email, ctx.devices.get(email), Date.now()));

  const json = express.json({ limit: BODY_LIMIT });
  const jsonBody: express.RequestHandler = (req, res, next) =>
    json(req, res, (error?: any) => {
      if (error) {
        res
          .status(error.status ?? 400)
          .json({ err: `invalid JSON body: ${error.message}` });
        return;
      }
      next();
    });

  router.get(path, (req, res) => {
    const email = emailOf(req, res);
    if (email) {
      answer(res, email);
    }
  });
  router.patch(path, jsonBody, (req, res) => {
    const email = emailOf(req, res);
    if (!email) {
      return;
    }
    try {
      ctx.devices.update(email, req.body);
    } catch (error: any) {
      res.status(400).json({ err: error.message });
      return;
    }
    answer(res, email);
  });
  router.delete(path, (req, res) => {
    const email = emailOf(req, res);
    if (email) {
      ctx.devices.reset(email);
      answer(res, email);
    }
  });
  router.delete('/cdn-cgi/emulator/devices', (_req, res) => {
    ctx.devices.reset();
    res.json({ reset: true });
  });
  return router;
}
