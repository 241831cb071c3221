import { z } from 'zod/v3';
import { JsonObject } from '@backstage/types';
import { readDevicePosture } from '../context/devicePosture';
import { normalizeAccessGroups } from '../signIn/accessGroups';
import { CloudflareAccessIdentityProfile } from '../types';

const jsonObject = z.record(
  z.string(),
  z.unknown(),
) as unknown as z.ZodType<JsonObject>;

/**
 * What we read from a get-identity answer, leniently: Access's shape depends
 * on the identity provider, so a field of an unexpected type is treated as
 * absent rather than failing the identity. Only a body that is not an object
 * fails. Groups come in every shape Access allows (normalizeAccessGroups).
 */
export const identityAnswerSchema = z.object({
  id: z.string().optional().catch(undefined),
  name: z.string().optional().catch(undefined),
  email: z.string().catch(''),
  groups: z.unknown().transform(normalizeAccessGroups),
  idp: z
    .object({ id: z.unknown(), type: z.unknown() })
    .optional()
    .catch(undefined),
  custom: jsonObject.optional().catch(undefined),
  // Device facts: only the boolean true is true.
  is_warp: z.boolean().catch(false),
  is_gateway: z.boolean().catch(false),
  device_id: z.string().optional().catch(undefined),
  devicePosture: z.unknown().transform(readDevicePosture),
});

/**
 * An identity as this module caches it: exactly a
 * CloudflareAccessIdentityProfile; anything else in the cache is a miss.
 */
export const cachedIdentitySchema: z.ZodType<CloudflareAccessIdentityProfile> =
  z.object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    groups: z.array(
      z.object({ id: z.string(), name: z.string(), email: z.string() }),
    ),
    idp: z.object({ id: z.string(), type: z.string() }).optional(),
    custom: jsonObject.optional(),
    device: z
      .object({
        id: z.string().optional(),
        warp: z.boolean(),
        gateway: z.boolean(),
        posture: z.array(
          z.object({
            ruleId: z.string(),
            name: z.string(),
            type: z.string(),
            success: z.boolean(),
            checkedAt: z.number().optional(),
          }),
        ),
      })
      .optional(),
    fetchedAt: z.number().optional(),
  });
