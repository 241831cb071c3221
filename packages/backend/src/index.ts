/*
 * The example backend: Backstage behind Cloudflare Access.
 *
 * Every request reaches it through Access (or, locally, the Access emulator) with a signed
 * Cf-Access-Jwt-Assertion header; the cfaccess provider turns that into a Backstage sign-in.
 */
import { createBackend } from '@backstage/backend-defaults';
import { rootHttpRouterServiceFactory } from '@backstage/backend-defaults/rootHttpRouter';
import { withCloudflareAccessBoundary } from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';
import { cfaccessAuthModule } from './modules/cfaccessAuth';
import { permissionPolicyModule } from './modules/permissionPolicy';

const backend = createBackend();

// Access on every request: the Cloudflare Access boundary in front of every plugin route. Settings in
// auth.providers.cfaccess.boundary (app-config.yaml): mode enforce | report | off, exemptPaths.
backend.add(
  rootHttpRouterServiceFactory({ configure: withCloudflareAccessBoundary() }),
);

backend.add(import('@backstage/plugin-app-backend'));

// auth: the Cloudflare Access provider with the example's own sign-in resolver. A backend that is happy
// with the built-in resolvers adds the module itself instead:
//   backend.add(import('@cfaccess/plugin-auth-backend-module-cfaccess-provider'));
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(cfaccessAuthModule);

// catalog: the users and groups that Access users sign in as (examples/org.yaml)
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

// permissions: everything is allowed but reading a restricted entity, which only its owners may
// (modules/permissionPolicy.ts); the same for a person in the browser, a script and an agent
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(permissionPolicyModule);

// user settings, so the signed-in user's profile shows on the settings page
backend.add(import('@backstage/plugin-user-settings-backend'));

// scaffolder: Software Templates, and the catalog's Template kind. The example's template
// (examples/templates/catalog-lookup.yaml) reads the catalog from its steps, so running one shows the
// scaffolder's own calls to the catalog passing the boundary.
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);

// MCP actions: AI agents and other MCP clients use the actions of the plugins named in
// backend.actions.pluginSources (app-config.yaml) at /api/mcp-actions/v1, as the Backstage user their
// Access identity signs in as (through the boundary). Behind Cloudflare Access, Managed OAuth signs the
// agent in; Backstage's own OAuth stays off (docs: agents and MCP clients).
backend.add(import('@backstage/plugin-mcp-actions-backend'));

// Backstage logs a failed startup (a misconfiguration, a database that is down) and keeps the process up,
// never ready. Exit instead, so a deployment sees the failure and its message, and restarts.
backend.start().catch(error => {
  process.stderr.write(`Backend startup failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
