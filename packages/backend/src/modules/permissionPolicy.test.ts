import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
  catalogEntityRefreshPermission,
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
} from '@backstage/plugin-catalog-common/alpha';
import { ExamplePermissionPolicy, RESTRICTED_LABEL } from './permissionPolicy';

const alice = {
  identity: {
    type: 'user' as const,
    userEntityRef: 'user:default/alice',
    ownershipEntityRefs: ['user:default/alice', 'group:default/admins'],
  },
  token: '',
  credentials: {} as any,
  info: {
    userEntityRef: 'user:default/alice',
    ownershipEntityRefs: ['user:default/alice', 'group:default/admins'],
  },
};

describe('ExamplePermissionPolicy', () => {
  const policy = new ExamplePermissionPolicy();

  it('lets anyone read an entity unless it is restricted, and a restricted one only its owners', async () => {
    const decision = await policy.handle(
      { permission: catalogEntityReadPermission },
      alice as any,
    );
    expect(decision).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        anyOf: [
          {
            not: {
              rule: 'HAS_LABEL',
              resourceType: 'catalog-entity',
              params: { label: RESTRICTED_LABEL, value: 'restricted' },
            },
          },
          {
            rule: 'IS_ENTITY_OWNER',
            resourceType: 'catalog-entity',
            params: {
              claims: ['user:default/alice', 'group:default/admins'],
            },
          },
        ],
      },
    });
  });

  it('gives a caller with no user no ownership', async () => {
    const decision = (await policy.handle({
      permission: catalogEntityReadPermission,
    })) as any;
    expect(decision.conditions.anyOf[1].params.claims).toEqual([]);
  });

  it.each([
    catalogLocationCreatePermission,
    catalogLocationDeletePermission,
    catalogEntityDeletePermission,
  ])('lets only admins change what the catalog reads: %j', async permission => {
    expect(await policy.handle({ permission }, alice as any)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
    const bob = {
      ...alice,
      info: {
        userEntityRef: 'user:default/bob',
        ownershipEntityRefs: ['user:default/bob', 'group:default/engineering'],
      },
    };
    expect(await policy.handle({ permission }, bob as any)).toEqual({
      result: AuthorizeResult.DENY,
    });
    expect(await policy.handle({ permission })).toEqual({
      result: AuthorizeResult.DENY,
    });
  });

  it('allows everything else', async () => {
    expect(
      await policy.handle({ permission: catalogEntityRefreshPermission }, {
        ...alice,
        info: { ...alice.info, ownershipEntityRefs: [] },
      } as any),
    ).toEqual({ result: AuthorizeResult.ALLOW });
  });
});
