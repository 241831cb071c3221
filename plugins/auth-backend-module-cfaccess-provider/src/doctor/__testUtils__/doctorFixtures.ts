/*
 * The doctor's tests run against the real Access emulator on loopback. Its
 * keys live in a temporary state directory, so a test can also sign tokens
 * the emulator never mints (no email, type "org") with the team's own key.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import {
  startAccessEmulator,
  type AccessEmulator,
  type EmulatorUser,
} from '@cfaccess/access-emulator';

export const SERVICE_TOKEN = {
  clientId: '0123456789abcdef0123456789abcdef.access',
  clientSecret: 'cfast_doctor-test-secret-never-printed-0123456789',
};

export type Fixture = {
  emulator: AccessEmulator;
  dir: string;
  /** Signs claims with the emulator's current key (header alg RS256, its kid). */
  sign(claims: JWTPayload, header?: { alg?: string }): Promise<string>;
  /** Writes a config file into the fixture's directory; returns its path. */
  writeConfig(name: string, yaml: string): Promise<string>;
  close(): Promise<void>;
};

const ALICE: EmulatorUser = {
  email: 'alice@example.com',
  name: 'Alice Example',
  groups: ['engineering', 'admins'],
};

/** An emulator with Alice (or the given users) and the service token. */
export async function startFixture(
  options: { users?: EmulatorUser[] } = {},
): Promise<Fixture> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfaccess-doctor-'));
  const stateDir = path.join(dir, 'state');
  const emulator = await startAccessEmulator({
    port: 0,
    stateDir,
    users: options.users ?? [ALICE],
    serviceTokens: [{ ...SERVICE_TOKEN, name: 'ci' }] as any,
  });
  const jwk = JSON.parse(
    await fs.readFile(path.join(stateDir, 'current.jwk.json'), 'utf8'),
  ) as JWK;
  return {
    emulator,
    dir,
    async sign(claims, header = {}) {
      const alg = header.alg ?? 'RS256';
      const key = await importJWK({ ...jwk, alg }, alg);
      return new SignJWT(claims)
        .setProtectedHeader({ alg, kid: jwk.kid!, typ: 'JWT' })
        .sign(key);
    },
    async writeConfig(name, yaml) {
      const file = path.join(dir, name);
      await fs.writeFile(file, yaml);
      return file;
    },
    async close() {
      await emulator.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** A development config for the fixture's emulator. */
export function developmentConfig(
  emulator: AccessEmulator,
  extra = '',
): string {
  return `auth:
  environment: development
  providers:
    cfaccess:
      teamDomain: ${emulator.url}
      audience: ${emulator.audience[0]}
      serviceTokens:
        - token: ${SERVICE_TOKEN.clientId}
          subject: user:default/ci-bot
      signIn:
        resolvers:
          - resolver: emailMatchingUserEntityProfileEmail
          - resolver: serviceTokenSubject
${extra}`;
}

/** Claims like the emulator's person tokens, valid for an hour from `nowSeconds`. */
export function personClaims(
  emulator: AccessEmulator,
  nowSeconds = Math.floor(Date.now() / 1000),
): JWTPayload {
  return {
    aud: emulator.audience,
    iss: emulator.issuer,
    sub: '5a0b7f8e-0000-5000-8000-000000000001',
    email: 'alice@example.com',
    identity_nonce: 'doctor-test-nonce',
    type: 'app',
    country: 'XX',
    iat: nowSeconds,
    nbf: nowSeconds,
    exp: nowSeconds + 3600,
  };
}
