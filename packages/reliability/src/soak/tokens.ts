/*
 * The soak's tokens: valid sessions (one login each, users cycled) and invalid tokens of the kinds an
 * application sees in the wild. None is ever logged.
 */
import { randomBytes } from 'node:crypto';
import type { AccessEmulator } from '@cfaccess/access-emulator';
import { SignJWT, generateKeyPair } from 'jose';

export interface Session {
  user: string;
  token: string;
}

export interface InvalidToken {
  kind: string;
  token: string;
}

const USERS = ['alice', 'bob', 'carol'];

export async function signInSessions(
  emulator: AccessEmulator,
  count: number,
): Promise<Session[]> {
  const sessions: Session[] = [];
  for (let i = 0; i < count; i++) {
    const user = USERS[i % USERS.length];
    sessions.push({
      user,
      token: await emulator.mintUserToken(`${user}@example.com`),
    });
  }
  return sessions;
}

const b64url = (value: string | Buffer) =>
  Buffer.from(value).toString('base64url');

/**
 * Invalid tokens: a forged signature, a tampered payload, a token signed by a key Access does not have,
 * an expired one, one with `alg: none`, and garbage.
 */
export async function invalidTokens(
  emulator: AccessEmulator,
): Promise<InvalidToken[]> {
  const valid = await emulator.mintUserToken('alice@example.com');
  const [header, payload, signature] = valid.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const { privateKey } = await generateKeyPair('RS256');
  const foreign = await new SignJWT(claims)
    .setProtectedHeader({
      alg: 'RS256',
      kid: randomBytes(32).toString('hex'),
      typ: 'JWT',
    })
    .sign(privateKey);
  return [
    {
      kind: 'forged-signature',
      token: `${header}.${payload}.${b64url(
        randomBytes(Buffer.from(signature, 'base64url').length),
      )}`,
    },
    {
      kind: 'tampered-payload',
      token: `${header}.${b64url(
        JSON.stringify({ ...claims, email: 'mallory@example.com' }),
      )}.${signature}`,
    },
    { kind: 'foreign-key', token: foreign },
    {
      kind: 'expired',
      token: await emulator.mintUserToken('bob@example.com', {
        expiresInSeconds: -60,
      }),
    },
    {
      kind: 'alg-none',
      token: `${b64url(
        JSON.stringify({ alg: 'none', typ: 'JWT' }),
      )}.${payload}.`,
    },
    { kind: 'garbage', token: 'not-a-jwt' },
  ];
}
