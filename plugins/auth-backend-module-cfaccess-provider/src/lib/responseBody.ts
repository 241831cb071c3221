/**
 * Reading the answers of Access (certs, get-identity) without trusting their
 * size, and letting go of the ones we do not read.
 */

/** The body was larger than allowed; it was cancelled, not read to the end. */
export class ResponseTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`the answer is larger than ${limitBytes} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * Cancels a response body that will not be read, so its connection goes back
 * to the pool (or is closed) instead of being held until the server gives up.
 * Never throws.
 */
export function discardBody(res: Response): void {
  if (res.body && !res.bodyUsed) {
    res.body.cancel().catch(() => {});
  }
}

/**
 * Reads a body as UTF-8 text, at most `limitBytes` of it (after any content
 * decoding, so a compressed answer cannot expand past the limit). A larger
 * body is cancelled as soon as it is known to be too large: from its
 * `content-length` before reading, else once the bytes read pass the limit.
 */
export async function readBodyText(
  res: Response,
  limitBytes: number,
): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  // content-length counts encoded bytes; it only tells for unencoded bodies.
  if (!res.headers.has('content-encoding') && declared > limitBytes) {
    discardBody(res);
    throw new ResponseTooLargeError(limitBytes);
  }
  if (!res.body) {
    return '';
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    total += value.byteLength;
    if (total > limitBytes) {
      reader.cancel().catch(() => {});
      throw new ResponseTooLargeError(limitBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
