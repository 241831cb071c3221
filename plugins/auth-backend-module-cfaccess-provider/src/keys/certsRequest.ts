import { discardBody, readBodyText } from '../lib/responseBody';
import { withTimeout } from '../lib/timeout';

export type CertsRequestOptions = {
  /** Covers the request and reading the body. */
  timeoutMs: number;
  /** Larger answers are refused (a ResponseTooLargeError). */
  maxBodyBytes: number;
  fetch?: typeof fetch;
  /** Told the status and Date header as soon as they arrive, whatever happens to the body. */
  onResponse?: (response: { status: number; date?: string }) => void;
};

/** What the certs endpoint answered: its status, its Date header, and the parsed JSON body. */
export type CertsAnswer = {
  status: number;
  /** The `Date` header as sent, when there is one. */
  date?: string;
  body: unknown;
};

/** The certs endpoint answered with a status other than 2xx; its body was not read. */
export class CertsStatusError extends Error {
  readonly name = 'CertsStatusError';

  constructor(readonly status: number, readonly date?: string) {
    super(`certs endpoint answered HTTP ${status}`);
  }
}

/**
 * The one request for `<team domain>/cdn-cgi/access/certs`, made by the key
 * cache and by the doctor alike: JSON, no redirects (an Access login page is
 * not a key set), the timeout over request and body, and the size limit.
 * Throws a CertsStatusError for a status other than 2xx, a SyntaxError for a
 * body that is not JSON, and the network or timeout error otherwise.
 */
export function requestCerts(
  certsUrl: string,
  options: CertsRequestOptions,
): Promise<CertsAnswer> {
  const fetchImpl = options.fetch ?? fetch;
  return withTimeout(options.timeoutMs, async signal => {
    const res = await fetchImpl(certsUrl, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal,
    });
    const date = res.headers.get('date') ?? undefined;
    options.onResponse?.({ status: res.status, date });
    if (!res.ok) {
      discardBody(res);
      throw new CertsStatusError(res.status, date);
    }
    const text = await readBodyText(res, options.maxBodyBytes);
    return { status: res.status, date, body: JSON.parse(text) as unknown };
  });
}
