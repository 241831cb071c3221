/*
 * DELETE /cdn-cgi/emulator/oauth/grants: revokes every Managed OAuth grant (behind the admin rules), so a
 * test can make every client authorize again.
 */
import { Router } from 'express';
import type { EmulatorContext } from '../context';

export function createOAuthAdminRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const oauth = ctx.managedOAuth;
  if (oauth) {
    router.delete('/cdn-cgi/emulator/oauth/grants', (_req, res) => {
      res.json({ revoked: oauth.revokeAllGrants() });
    });
  }
  return router;
}
