/*
 * The online check of the team domain: the certs endpoint answers within the
 * configured timeout, with the shape Access publishes (`keys`, `public_cert`,
 * `public_certs`), and with signing keys the module can use. The answer is
 * read by the module's own key import, so "usable" means exactly what it
 * means to the backend. The `Date` header gives this machine's clock skew.
 */
import { z } from 'zod/v3';
import { errorText } from '../lib/errorText';
import { ResponseTooLargeError } from '../lib/responseBody';
import { CertsStatusError, requestCerts } from '../keys/certsRequest';
import { importSigningKeys } from '../keys/signingKeys';
import type { CfAccessConfig } from '../config/readConfig';

export type CertsKey = {
  kid?: string;
  kty?: string;
  alg?: string;
  use?: string;
  /** Whether the module verifies tokens with it (an RS256 RSA signing key). */
  usable: boolean;
};

export type TeamDomainCheck = {
  certsUrl: string;
  /** The certs answered with usable keys. */
  ok: boolean;
  /** Why not, when the certs could not be had (unreachable, timeout, HTTP status, no usable key). */
  error?: string;
  status?: number;
  elapsedMs: number;
  keys: CertsKey[];
  /** The kid of `public_cert` and of each `public_certs` entry, when present. */
  publicCert?: string;
  publicCerts?: string[];
  /** The certs answer's Date header, and this machine's clock minus it (seconds; positive: ahead). */
  serverDate?: string;
  clockSkewSeconds?: number;
  warnings: string[];
};

const certsSchema = z
  .object({
    keys: z.array(z.unknown()),
    public_cert: z.object({ kid: z.string(), cert: z.string() }).optional(),
    public_certs: z
      .array(z.object({ kid: z.string(), cert: z.string() }))
      .optional(),
  })
  .passthrough();

const jwkFields = z
  .object({
    kid: z.string().optional(),
    kty: z.string().optional(),
    alg: z.string().optional(),
    use: z.string().optional(),
  })
  .passthrough();

/** The Date header has a one-second resolution; skew within it is not skew. */
const DATE_RESOLUTION_SECONDS = 1;

export async function checkTeamDomain(
  config: Pick<CfAccessConfig, 'certsUrl' | 'jwks' | 'clockToleranceSeconds'>,
  options: { now?: () => number; fetch?: typeof fetch } = {},
): Promise<TeamDomainCheck> {
  const now = options.now ?? Date.now;
  const { certsUrl, jwks } = config;
  const started = now();
  const result: TeamDomainCheck = {
    certsUrl,
    ok: false,
    elapsedMs: 0,
    keys: [],
    warnings: [],
  };

  // The key cache's own request: JSON, no redirects, the configured timeout and size limit.
  let body: unknown;
  try {
    ({ body } = await requestCerts(certsUrl, {
      timeoutMs: jwks.timeoutMs,
      maxBodyBytes: jwks.maxBodyBytes,
      fetch: options.fetch,
      // Status and clock even when the body then fails.
      onResponse: ({ status, date }) => {
        result.status = status;
        addServerDate(result, date, started, now());
      },
    }));
  } catch (error) {
    result.elapsedMs = now() - started;
    result.error = certsFailure(certsUrl, jwks, error);
    addSkewWarning(result, config.clockToleranceSeconds);
    return result;
  }
  result.elapsedMs = now() - started;
  addSkewWarning(result, config.clockToleranceSeconds);

  const parsed = certsSchema.safeParse(body);
  if (!parsed.success) {
    result.error = `${certsUrl} answered without a "keys" list: not a Cloudflare Access certs endpoint`;
    return result;
  }
  const certs = parsed.data;
  result.publicCert = certs.public_cert?.kid;
  result.publicCerts = certs.public_certs?.map(c => c.kid);
  if (!certs.public_cert || !certs.public_certs) {
    result.warnings.push(
      `the certs answer has no ${
        certs.public_cert ? 'public_certs' : 'public_cert'
      }, which Cloudflare Access always publishes: is ${certsUrl} really the team domain?`,
    );
  }

  // The key cache's own import decides which keys are usable.
  const usable = await importSigningKeys(body);
  result.keys = certs.keys.map(jwk => {
    const fields = jwkFields.safeParse(jwk);
    const { kid, kty, alg, use } = fields.success ? fields.data : {};
    return { kid, kty, alg, use, usable: !!kid && usable.has(kid) };
  });
  for (const key of result.keys.filter(k => !k.usable)) {
    result.warnings.push(
      `the key ${key.kid ? `with kid ${key.kid}` : 'without a kid'} (kty ${
        key.kty ?? 'none'
      }, alg ${
        key.alg ?? 'none'
      }) is ignored: Cloudflare Access signs with RS256 RSA keys only`,
    );
  }
  if (usable.size === 0) {
    result.error = `${certsUrl}: certs endpoint returned no usable RSA signing keys`;
    return result;
  }
  result.ok = true;
  return result;
}

/** Why the certs request gave no key set, in the words of what went wrong. */
function certsFailure(
  certsUrl: string,
  jwks: CfAccessConfig['jwks'],
  error: unknown,
): string {
  if (error instanceof CertsStatusError) {
    return `${certsUrl} answered HTTP ${error.status}: not a key set`;
  }
  if (error instanceof ResponseTooLargeError) {
    return `${certsUrl} answered with more than jwks.maxBodyBytes (${jwks.maxBodyBytes} bytes)`;
  }
  if (error instanceof SyntaxError) {
    return `${certsUrl} answered with something other than JSON: not a Cloudflare Access certs endpoint`;
  }
  return `${certsUrl} did not answer within jwks.timeoutMs (${
    jwks.timeoutMs
  } ms): ${describeFetchError(error)}`;
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })
    ?.cause;
  if (cause?.code) {
    return `${errorText(error)} (${cause.code})`;
  }
  return errorText(error);
}

/** The certs answer's Date header, and this machine's clock minus it, measured at the request's midpoint. */
function addServerDate(
  result: TeamDomainCheck,
  date: string | undefined,
  startedMs: number,
  endedMs: number,
) {
  const serverMs = date === undefined ? NaN : Date.parse(date);
  if (Number.isNaN(serverMs)) {
    return;
  }
  result.serverDate = new Date(serverMs).toISOString();
  result.clockSkewSeconds = Math.round(
    ((startedMs + endedMs) / 2 - serverMs) / 1000,
  );
}

function addSkewWarning(result: TeamDomainCheck, toleranceSeconds: number) {
  const skew = result.clockSkewSeconds;
  if (
    skew === undefined ||
    Math.abs(skew) <= toleranceSeconds + DATE_RESOLUTION_SECONDS
  ) {
    return;
  }
  const by = Math.abs(skew) - toleranceSeconds;
  result.warnings.push(
    `this machine's clock is ${Math.abs(skew)} s ${
      skew > 0 ? 'ahead of' : 'behind'
    } the team domain's (Date ${
      result.serverDate
    }), more than clockToleranceSeconds (${toleranceSeconds} s): a backend with this clock ${
      skew > 0
        ? `rejects tokens as expired up to ${by} s before they expire`
        : `rejects fresh tokens as not valid yet for up to ${by} s after sign-in`
    }; sync the clock (NTP)`,
  );
}
