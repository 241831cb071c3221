import { ResponseError } from '@backstage/errors';

/**
 * The Access boundary's 403 body for a reason, as the backend module's
 * `boundaryMiddleware.ts` sends it: the sentence, then the posture check.
 */
export function refusalBody(
  reason = 'posture_required',
  requirement: { postureCheck?: unknown } | string | null = {
    postureCheck: 'Disk encryption',
  },
  sentence = 'This device has not passed a device posture check this needs; fix what the check looks for, let the WARP client report again, and try again.',
) {
  const check =
    typeof requirement === 'object' &&
    typeof requirement?.postureCheck === 'string'
      ? ` Posture check: ${JSON.stringify(requirement.postureCheck)}.`
      : '';
  return {
    error: {
      name: 'NotAllowedError',
      message: `Cloudflare Access boundary refused the request (${reason}): ${sentence}${check}`,
      reason,
      ...(requirement && { requirement }),
    },
    request: { method: 'POST', url: '/api/scaffolder/v2/tasks' },
    response: { statusCode: 403 },
  };
}

export function refusalResponse(
  body: object = refusalBody(),
  init: { status?: number; contentType?: string } = {},
) {
  const { status = 403, contentType = 'application/json; charset=utf-8' } =
    init;
  return new Response(JSON.stringify(body), {
    status,
    statusText: status === 403 ? 'Forbidden' : 'Error',
    headers: { 'content-type': contentType },
  });
}

/** What `fetchApi` callers built on `@backstage/errors` throw. */
export function refusalResponseError(
  body: object = refusalBody(),
  init?: { status?: number; contentType?: string },
) {
  return ResponseError.fromResponse(refusalResponse(body, init));
}

/**
 * What `ScaffolderClient.scaffold` (`@backstage/plugin-scaffolder-common`
 * 2.3/2.4, used by `@backstage/plugin-scaffolder` 1.41) throws for a failed
 * `POST /v2/tasks`: a plain Error with the status and the body text.
 */
export function scaffolderError(body: object = refusalBody()) {
  return new Error(
    `Backend request failed, 403 Forbidden ${JSON.stringify(body).trim()}`,
  );
}
