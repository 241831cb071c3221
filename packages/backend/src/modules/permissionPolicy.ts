import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  isPermission,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import type {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';

/** Entities with this label are read only by their owners (examples/entities.yaml has one). */
export const RESTRICTED_LABEL = 'example.com/visibility';

/** The group that may change what the catalog reads (register and remove locations, delete entities). */
export const CATALOG_ADMINS = 'group:default/admins';

const CATALOG_CHANGES = [
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
  catalogEntityDeletePermission,
];

/**
 * The example's permission policy: everything is allowed, except reading an entity labelled
 * `example.com/visibility: restricted`, which only its owners may (the user or one of the groups they sign in
 * with), and changing what the catalog reads (registering or removing a location, deleting an entity), which
 * only the admins group may. The same rules hold in the browser, for a script and for an agent through the
 * MCP actions: they are all the Backstage user that their Access identity signs in as.
 */
export class ExamplePermissionPolicy implements PermissionPolicy {
  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    if (isPermission(request.permission, catalogEntityReadPermission)) {
      return createCatalogConditionalDecision(request.permission, {
        anyOf: [
          {
            not: catalogConditions.hasLabel({
              label: RESTRICTED_LABEL,
              value: 'restricted',
            }),
          },
          catalogConditions.isEntityOwner({
            claims: user?.info.ownershipEntityRefs ?? [],
          }),
        ],
      });
    }
    if (CATALOG_CHANGES.some(p => isPermission(request.permission, p))) {
      const admin = user?.info.ownershipEntityRefs.includes(CATALOG_ADMINS);
      return { result: admin ? AuthorizeResult.ALLOW : AuthorizeResult.DENY };
    }
    return { result: AuthorizeResult.ALLOW };
  }
}

export const permissionPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'example-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, logger: coreServices.logger },
      async init({ policy }) {
        policy.setPolicy(new ExamplePermissionPolicy());
      },
    });
  },
});
