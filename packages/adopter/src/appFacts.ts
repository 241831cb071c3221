/*
 * What the README steps set up, read back from the files they wrote in the app: the people and service
 * tokens the emulator offers, the catalog Users, and the service tokens the backend accepts. The checks
 * expect what the README promises, so they follow a README that changes its example user.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export interface AppFacts {
  person: { email: string; name: string; entityRef: string };
  serviceToken?: { clientId: string; clientSecret: string; entityRef: string };
}

function readYaml(file: string): any {
  return parse(fs.readFileSync(file, 'utf8'));
}

/** The emulator's users file: the `--users` argument of the README's emulator command. */
export function emulatorUsersFile(appDir: string, command: string): string {
  const match = /--users\s+(\S+)/.exec(command);
  if (!match) {
    throw new Error(`the emulator command has no --users file: ${command}`);
  }
  return path.join(appDir, match[1]);
}

export function readAppFacts(appDir: string, usersFile: string): AppFacts {
  const users = readYaml(usersFile);
  const catalogUsers = parseAllDocuments(
    fs.readFileSync(path.join(appDir, 'examples/org.yaml'), 'utf8'),
  )
    .map(doc => doc.toJS())
    .filter(entity => entity?.kind === 'User');
  const userRef = (email: string) => {
    const user = catalogUsers.find(u => u.spec?.profile?.email === email);
    if (!user) {
      throw new Error(
        `examples/org.yaml has no User with spec.profile.email ${email}`,
      );
    }
    return `user:${user.metadata.namespace ?? 'default'}/${user.metadata.name}`;
  };
  const first = users?.users?.[0];
  if (!first?.email) {
    throw new Error(`${usersFile} lists no user`);
  }
  const facts: AppFacts = {
    person: {
      email: first.email,
      name: first.name ?? first.email,
      entityRef: userRef(first.email),
    },
  };
  const token = users.serviceTokens?.[0];
  if (token) {
    const config = readYaml(path.join(appDir, 'app-config.local.yaml'));
    const allowed = (
      config?.auth?.providers?.cfaccess?.serviceTokens ?? []
    ).find((t: any) => t.token === token.clientId);
    if (!allowed) {
      throw new Error(
        `app-config.local.yaml does not allow the emulator's service token ${token.clientId}`,
      );
    }
    const subject: string = allowed.subject;
    facts.serviceToken = {
      clientId: token.clientId,
      clientSecret: token.clientSecret,
      // A full entity ref signs in as itself; an email as the catalog User with that email.
      entityRef: /^[\w-]+:[\w-]+\/[\w.-]+$/.test(subject)
        ? subject
        : userRef(subject),
    };
  }
  return facts;
}
