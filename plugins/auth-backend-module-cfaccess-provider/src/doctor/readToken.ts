/*
 * The token to diagnose, as an operator has it at hand: the bare JWT, the
 * value of the CF_Authorization cookie, a cookie string with it
 * (`CF_Authorization=<jwt>; other=…`, as copied from the browser's request
 * headers), or what `cloudflared access token` prints. Read from the flag,
 * a file or standard input; never echoed anywhere.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse as parseCookie } from 'cookie';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { providerSettings } from '../config/settings';
import { UsageError } from './usageError';

export type TokenSource = {
  /** `--token`; `-` reads standard input. */
  token?: string;
  /** `--token-file`, relative to `cwd`. */
  tokenFile?: string;
  /** Where a relative `--token-file` is read from; default the working directory. */
  cwd?: string;
  /** Standard input, read when asked for (`--token -`) or when it is not a terminal. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** The cookie name the backend reads (authorizationCookieName). */
  cookieName?: string;
};

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The raw input, or undefined when no token was given (stdin a terminal or empty). */
async function readRaw(source: TokenSource): Promise<string | undefined> {
  if (source.token !== undefined && source.tokenFile !== undefined) {
    throw new UsageError('give --token or --token-file, not both');
  }
  if (source.tokenFile !== undefined) {
    try {
      return await fs.readFile(
        path.resolve(source.cwd ?? process.cwd(), source.tokenFile),
        'utf8',
      );
    } catch (error) {
      throw new UsageError(
        `cannot read the token file ${source.tokenFile}: ${
          (error as NodeJS.ErrnoException).code ?? (error as Error).message
        }`,
      );
    }
  }
  if (source.token === '-') {
    if (!source.stdin) {
      throw new UsageError('--token - reads standard input, which is closed');
    }
    return readStream(source.stdin);
  }
  if (source.token !== undefined) {
    return source.token;
  }
  if (source.stdin && !source.stdin.isTTY) {
    const text = await readStream(source.stdin);
    return text.trim() ? text : undefined;
  }
  return undefined;
}

/**
 * The JWT in what was given: trimmed, and taken out of a cookie string when
 * it is one. A value that does not decode as a JWT is a usage error; whether
 * it is a token this backend accepts is the verifier's call.
 */
export function extractJwt(
  raw: string,
  cookieName: string = providerSettings.authorizationCookieName.default,
): string {
  let value = raw.trim();
  if (value.toLowerCase().startsWith('cookie:')) {
    value = value.slice('cookie:'.length).trim();
  }
  if (value.includes('=') && value.includes(`${cookieName}=`)) {
    const fromCookie = parseCookie(value)[cookieName];
    if (fromCookie) {
      value = fromCookie.trim();
    }
  }
  if (!value) {
    throw new UsageError('the token is empty');
  }
  try {
    decodeProtectedHeader(value);
    decodeJwt(value);
  } catch {
    throw new UsageError(
      `the token is not a JWT (expected the Access application token: three base64url parts separated by dots, as in the ${cookieName} cookie or the Cf-Access-Jwt-Assertion header)`,
    );
  }
  return value;
}

/** The token to diagnose, or undefined when none was given. */
export async function readToken(
  source: TokenSource,
): Promise<string | undefined> {
  const raw = await readRaw(source);
  return raw === undefined ? undefined : extractJwt(raw, source.cookieName);
}
