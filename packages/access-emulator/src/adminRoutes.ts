/*
 * Emulator-only admin endpoints under /cdn-cgi/emulator/: key rotation, fault injection, request
 * counts, people's devices and Managed OAuth grants. Reached only through the edge's admin rules (edge.ts).
 */
import express, { Router } from 'express';
import type { EmulatorContext } from './context';
import { createDeviceAdminRoutes } from './deviceAdminRoutes';
import { validateFaults } from './faults';
import { createOAuthAdminRoutes } from './oauth/adminRoutes';

export function createAdminRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  router.use('/cdn-cgi/emulator', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.post('/cdn-cgi/emulator/rotate-keys', async (_req, res, next) => {
    try {
      res.json(await ctx.keys.rotate());
    } catch (error) {
      next(error);
    }
  });

  router.get('/cdn-cgi/emulator/faults', (_req, res) => {
    res.json(ctx.faults.get());
  });
  router.post(
    '/cdn-cgi/emulator/faults',
    express.json({ limit: '4kb' }),
    (req, res) => {
      try {
        ctx.faults.set(validateFaults(req.body));
      } catch (error: any) {
        res.status(400).json({ err: error.message });
        return;
      }
      res.json(ctx.faults.get());
    },
  );
  router.delete('/cdn-cgi/emulator/faults', (_req, res) => {
    ctx.faults.clear();
    res.json(ctx.faults.get());
  });
  router.get('/cdn-cgi/emulator/stats', (_req, res) => {
    res.json(ctx.stats.get());
  });
  router.delete('/cdn-cgi/emulator/stats', (_req, res) => {
    ctx.stats.reset();
    res.json(ctx.stats.get());
  });
  router.use(createDeviceAdminRoutes(ctx), createOAuthAdminRoutes(ctx));
  return router;
}
