import request from 'supertest';
import type { JsonObject } from '@backstage/types';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import authPlugin from '@backstage/plugin-auth-backend';
import { closeAuthDatabaseOnShutdown } from './fixtures';

/** Catalog Users the tests sign in as. */
export const catalogUsers = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'jane', namespace: 'default' },
    spec: { profile: { email: 'jane@example.com' }, memberOf: ['team-a'] },
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'ci-bot', namespace: 'default' },
    spec: { profile: { email: 'ci-bot@example.com' } },
  },
];

/**
 * A real auth backend (startTestBackend, @backstage/plugin-auth-backend, an in-memory catalog) with the
 * given features and `auth.providers.cfaccess` config. Stop it with `backend.stop()`.
 */
export function startAuthBackend(options: {
  features: Parameters<typeof startTestBackend>[0]['features'];
  cfaccess: JsonObject;
  entities?: object[];
}) {
  return startTestBackend({
    features: [
      authPlugin,
      closeAuthDatabaseOnShutdown,
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          backend: { baseUrl: 'http://localhost:7007' },
          auth: { providers: { cfaccess: options.cfaccess } },
        },
      }),
      catalogServiceMock.factory({
        entities: (options.entities ?? catalogUsers) as any,
      }),
      ...(options.features ?? []),
    ],
  });
}

/** GET /refresh as Cloudflare forwards it: the token in the assertion header (none when omitted). */
export function refresh(backend: { server: any }, token?: string) {
  const req = request(backend.server).get('/api/auth/cfaccess/refresh');
  return token ? req.set('cf-access-jwt-assertion', token) : req;
}
