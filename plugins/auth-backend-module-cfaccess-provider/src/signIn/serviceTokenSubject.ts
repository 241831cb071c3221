import {
  KubernetesValidatorFunctions,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { splitEmail } from './email';

/**
 * A service token's configured `subject`, read once at startup: either an
 * email (signed in like a person with that email) or a User entity ref.
 * Exactly one of `email` and `entityRef` is set.
 */
export type ServiceTokenSubject = {
  /** As configured. */
  subject: string;
  email?: string;
  /** Full form, e.g. `user:default/ci-bot`. */
  entityRef?: string;
};

// An email (splitEmail: a plain ASCII mailbox) with nothing that belongs to an
// entity ref (`:` or `/`, which a mailbox's local part may hold).
const isEmailSubject = (subject: string) =>
  splitEmail(subject) !== undefined && !/[:/]/.test(subject);

/**
 * The one rule for what a subject is: an email when it looks like one,
 * otherwise a User entity ref (kind and namespace default to `user` and
 * `default`, so `ci-bot` is `user:default/ci-bot`). Returns `undefined` for
 * anything that is neither.
 */
export function parseServiceTokenSubject(
  subject: string,
): ServiceTokenSubject | undefined {
  if (isEmailSubject(subject)) {
    return { subject, email: subject };
  }
  let ref;
  try {
    ref = parseEntityRef(subject, {
      defaultKind: 'user',
      defaultNamespace: 'default',
    });
  } catch {
    return undefined;
  }
  if (
    ref.kind.toLowerCase() !== 'user' ||
    !KubernetesValidatorFunctions.isValidNamespace(ref.namespace) ||
    !KubernetesValidatorFunctions.isValidObjectName(ref.name)
  ) {
    return undefined;
  }
  return {
    subject,
    entityRef: stringifyEntityRef({ ...ref, kind: 'user' }),
  };
}
