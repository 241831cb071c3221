/*
 * The one request the suites make: GET /api/auth/cfaccess/refresh, with the Access token either as the
 * Cf-Access-Jwt-Assertion header (straight to a replica, as Access would forward it) or as the
 * CF_Authorization cookie (through the emulator, as a browser sends it). Tokens are never logged.
 */
export const REFRESH_PATH = '/api/auth/cfaccess/refresh';

export interface RefreshResult {
  status: number;
  text: string;
  /** The Backstage identity of a 200, when the body has one. */
  userEntityRef?: string;
  ownershipEntityRefs?: string[];
  /** The Backstage token of a 200. */
  backstageToken?: string;
  /** The status line arrived but the body was cut short (status 0, `text` says why). */
  cutShort?: boolean;
}

export async function refresh(
  baseUrl: string,
  token: { header?: string; cookie?: string },
): Promise<RefreshResult> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'x-requested-with': 'XMLHttpRequest',
  };
  if (token.header) {
    headers['cf-access-jwt-assertion'] = token.header;
  }
  if (token.cookie) {
    headers.cookie = `CF_Authorization=${token.cookie}`;
  }
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${REFRESH_PATH}`, {
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(10000),
    });
  } catch (error: any) {
    return { status: 0, text: String(error?.cause?.code ?? error?.message) };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (error: any) {
    // An origin that died mid-response: the headers came, the body never ended.
    return {
      status: 0,
      text: `${res.status} cut short: ${error?.cause?.code ?? error?.message}`,
      cutShort: true,
    };
  }
  const result: RefreshResult = { status: res.status, text };
  if (res.status === 200) {
    try {
      const body = JSON.parse(text);
      result.userEntityRef = body.backstageIdentity?.identity?.userEntityRef;
      result.ownershipEntityRefs =
        body.backstageIdentity?.identity?.ownershipEntityRefs;
      result.backstageToken = body.backstageIdentity?.token;
    } catch {
      // not JSON: the caller checks userEntityRef
    }
  }
  return result;
}

/** Reads a catalog User with a Backstage token: 200 proves the replica accepted the token. */
export async function getCatalogUser(
  baseUrl: string,
  backstageToken: string,
  name: string,
  /** The same person's Access application token, as Access forwards it: the backend's boundary requires it. */
  accessToken: string,
): Promise<number> {
  try {
    const res = await fetch(
      `${baseUrl}/api/catalog/entities/by-name/user/default/${name}`,
      {
        headers: {
          authorization: `Bearer ${backstageToken}`,
          'cf-access-jwt-assertion': accessToken,
        },
        signal: AbortSignal.timeout(10000),
      },
    );
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}
