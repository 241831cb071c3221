/*
 * Signing in to the app over HTTP, the three ways the README promises: a person through the emulator
 * (its login form, then the CF_Authorization cookie, as a browser sends them), a service token through
 * the emulator (its Client ID and secret), and a forged token straight to the backend, which must get a
 * 401 with its reason code.
 */
import {
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
} from 'jose';
import type { Report } from '@cfaccess/harness';
import type { AppFacts } from './appFacts';
import { BACKEND_URL, EMULATOR_URL } from './ports';

const REFRESH = '/api/auth/cfaccess/refresh';

interface Refreshed {
  status: number;
  userEntityRef?: string;
  text: string;
}

async function refresh(
  baseUrl: string,
  headers: Record<string, string>,
): Promise<Refreshed> {
  const res = await fetch(`${baseUrl}${REFRESH}`, {
    headers: { 'x-requested-with': 'XMLHttpRequest', ...headers },
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let userEntityRef: string | undefined;
  try {
    userEntityRef = JSON.parse(text).backstageIdentity?.identity?.userEntityRef;
  } catch {
    // not JSON
  }
  return { status: res.status, userEntityRef, text };
}

/** Signs in on the emulator's login form; returns the Access token from the cookie. */
export async function loginThroughEmulator(email: string): Promise<string> {
  const res = await fetch(`${EMULATOR_URL}/cdn-cgi/access/login`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: EMULATOR_URL,
    },
    body: new URLSearchParams({ email, redirect_url: '/' }),
    redirect: 'manual',
  });
  const cookie = res.headers
    .getSetCookie()
    .map(c => /^CF_Authorization=([^;]+)/.exec(c)?.[1])
    .find(Boolean);
  if (res.status !== 302 || !cookie) {
    throw new Error(
      `the emulator's login answered ${res.status} without a CF_Authorization cookie`,
    );
  }
  return cookie;
}

/** The same claims and kid, signed with a key that is not the team's. */
async function forge(token: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(decodeJwt(token))
    .setProtectedHeader(decodeProtectedHeader(token) as any)
    .sign(privateKey);
}

export async function checkSignIns(report: Report, facts: AppFacts) {
  const token = await loginThroughEmulator(facts.person.email);
  const person = await refresh(EMULATOR_URL, {
    cookie: `CF_Authorization=${token}`,
  });
  report.check(
    'a person signs in through the emulator',
    person.status === 200 && person.userEntityRef === facts.person.entityRef,
    `${facts.person.email}: ${person.status}, ${
      person.userEntityRef ?? person.text.slice(0, 200)
    } (expected ${facts.person.entityRef})`,
  );

  if (facts.serviceToken) {
    const { clientId, clientSecret, entityRef } = facts.serviceToken;
    const service = await refresh(EMULATOR_URL, {
      'cf-access-client-id': clientId,
      'cf-access-client-secret': clientSecret,
    });
    report.check(
      'a service token signs in through the emulator',
      service.status === 200 && service.userEntityRef === entityRef,
      `${clientId}: ${service.status}, ${
        service.userEntityRef ?? service.text.slice(0, 200)
      } (expected ${entityRef})`,
    );
  } else {
    report.check(
      'a service token signs in through the emulator',
      false,
      'the README sets up no service token',
    );
  }

  const forged = await refresh(BACKEND_URL, {
    'cf-access-jwt-assertion': await forge(token),
  });
  let reason = '';
  try {
    reason =
      /\(([a-z_]+)\)/.exec(JSON.parse(forged.text).error?.message ?? '')?.[1] ??
      '';
  } catch {
    // not JSON
  }
  report.check(
    'a forged token gets 401 with a reason code',
    forged.status === 401 && reason === 'bad_signature',
    `${forged.status}, reason ${
      reason || `none in ${forged.text.slice(0, 200)}`
    }`,
  );
}
