import { ResponseError } from '@backstage/errors';
import {
  refusalBody,
  refusalResponse,
  refusalResponseError,
  scaffolderError,
} from '../__testUtils__/refusal';
import {
  getCloudflareAccessRefusal,
  readCloudflareAccessRefusal,
} from './refusal';

const POSTURE_REFUSAL = {
  reason: 'posture_required',
  requirement: { postureCheck: 'Disk encryption' },
  message:
    'Cloudflare Access boundary refused the request (posture_required): This device has not passed a device posture check this needs; fix what the check looks for, let the WARP client report again, and try again. Posture check: "Disk encryption".',
};

describe('getCloudflareAccessRefusal', () => {
  it('reads a ResponseError through its parsed body', async () => {
    const error = await refusalResponseError();
    expect(error).toBeInstanceOf(ResponseError);
    expect(getCloudflareAccessRefusal(error)).toEqual(POSTURE_REFUSAL);
  });

  it("reads a ResponseError through its cause when the body isn't there", async () => {
    const error = await refusalResponseError(
      refusalBody('warp_required', null),
    );
    Object.assign(error, { body: undefined });
    expect(getCloudflareAccessRefusal(error)).toMatchObject({
      reason: 'warp_required',
    });
    expect(getCloudflareAccessRefusal(error)).not.toHaveProperty('requirement');
  });

  it('reads a body the server sent without a JSON content type', async () => {
    const error = await refusalResponseError(refusalBody(), {
      contentType: 'text/plain',
    });
    // @backstage/errors then keeps the text in the message of a generic body.
    expect(error.body.error.message).toMatch(/^Request failed with status 403/);
    expect(getCloudflareAccessRefusal(error)).toEqual(POSTURE_REFUSAL);
  });

  it('reads the parsed body, and its error object alone', () => {
    const body = refusalBody('posture_stale');
    expect(getCloudflareAccessRefusal(body)).toMatchObject({
      reason: 'posture_stale',
      requirement: { postureCheck: 'Disk encryption' },
    });
    expect(getCloudflareAccessRefusal(body.error)).toMatchObject({
      reason: 'posture_stale',
      requirement: { postureCheck: 'Disk encryption' },
    });
  });

  it("reads the scaffolder's error for a failed POST /v2/tasks", () => {
    expect(getCloudflareAccessRefusal(scaffolderError())).toEqual(
      POSTURE_REFUSAL,
    );
  });

  it('reads an error wrapping a refusal as its cause', async () => {
    const inner = await refusalResponseError(
      refusalBody('country_not_allowed', null),
    );
    const outer = new Error('Could not create the task', { cause: inner });
    expect(getCloudflareAccessRefusal(outer)?.reason).toBe(
      'country_not_allowed',
    );
  });

  it("reads the backend's message when nothing else is left", () => {
    expect(
      getCloudflareAccessRefusal(
        new Error(
          'Cloudflare Access boundary refused the request (people_only): A service token may not do this.',
        ),
      ),
    ).toEqual({
      reason: 'people_only',
      message:
        'Cloudflare Access boundary refused the request (people_only): A service token may not do this.',
    });
    expect(
      getCloudflareAccessRefusal(
        'Cloudflare Access token rejected (expired): The token has expired; sign in again through Cloudflare Access.',
      )?.reason,
    ).toBe('expired');
    expect(
      getCloudflareAccessRefusal(new Error(POSTURE_REFUSAL.message)),
    ).toEqual(POSTURE_REFUSAL);
  });

  it('keeps a reason it does not know, when the message is one of the backend module', () => {
    const body = refusalBody('tor_not_allowed', null);
    expect(getCloudflareAccessRefusal(body)).toEqual({
      reason: 'tor_not_allowed',
      message: body.error.message,
    });
  });

  it('recognises a known reason whose message was changed, and fills in a message', () => {
    expect(
      getCloudflareAccessRefusal({
        error: { name: 'NotAllowedError', reason: 'warp_required' },
      }),
    ).toEqual({
      reason: 'warp_required',
      message: 'Cloudflare Access refused the request (warp_required)',
    });
  });

  it('does not take other errors for refusals', async () => {
    // No reason.
    expect(
      getCloudflareAccessRefusal({
        error: { name: 'NotAllowedError', message: 'Forbidden' },
        response: { statusCode: 403 },
      }),
    ).toBeUndefined();
    expect(
      getCloudflareAccessRefusal(
        await ResponseError.fromResponse(
          new Response(
            JSON.stringify({
              error: { name: 'NotAllowedError', message: 'Forbidden' },
              response: { statusCode: 403 },
            }),
            {
              status: 403,
              headers: { 'content-type': 'application/json' },
            },
          ),
        ),
      ),
    ).toBeUndefined();
    // A reason this package does not know, from someone else.
    expect(
      getCloudflareAccessRefusal({
        error: { name: 'NotAllowedError', message: 'Nope', reason: 'quota' },
      }),
    ).toBeUndefined();
    // Not a reason code.
    for (const reason of ['Posture Required', '', 42, 'x'.repeat(65), {}]) {
      expect(
        getCloudflareAccessRefusal({
          error: {
            name: 'NotAllowedError',
            message: 'Cloudflare Access boundary refused the request',
            reason,
          },
        }),
      ).toBeUndefined();
    }
    expect(getCloudflareAccessRefusal(new Error('boom'))).toBeUndefined();
    expect(
      getCloudflareAccessRefusal(
        new Error('Backend request failed, 500 Internal Server Error {"a":1}'),
      ),
    ).toBeUndefined();
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['an empty string', ''],
    ['a string', 'boom'],
    ['a string with a brace', 'Cloudflare Access {not json'],
    ['an array', [refusalBody()]],
    ['an empty object', {}],
    ['a function', () => refusalBody()],
    ['a symbol', Symbol('refusal')],
    ['a bigint', BigInt(403)],
    ['a body whose error is a string', { error: 'posture_required' }],
    ['a body whose error is null', { error: null }],
    ['a Response', refusalResponse()],
  ])('gives undefined for %s', (_name, value) => {
    expect(getCloudflareAccessRefusal(value)).toBeUndefined();
  });

  it('never throws on objects that throw when read', () => {
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error('no');
        },
        has() {
          throw new Error('no');
        },
      },
    );
    expect(getCloudflareAccessRefusal(throwing)).toBeUndefined();
    const getter = {
      get body(): unknown {
        throw new Error('no');
      },
      error: refusalBody().error,
    };
    expect(getCloudflareAccessRefusal(getter)?.reason).toBe('posture_required');
  });

  it('stops on a cause that loops', () => {
    const error = new Error('a') as Error & { cause?: unknown };
    error.cause = error;
    expect(getCloudflareAccessRefusal(error)).toBeUndefined();
  });

  it('ignores a requirement that is not what it should be', () => {
    for (const requirement of [
      'Disk encryption',
      { postureCheck: 42 },
      { postureCheck: '   ' },
      { other: 'x' },
    ]) {
      const refusal = getCloudflareAccessRefusal(
        refusalBody('posture_required', requirement),
      );
      expect(refusal?.reason).toBe('posture_required');
      expect(refusal).not.toHaveProperty('requirement');
    }
  });

  it('bounds what it keeps from huge input', () => {
    const refusal = getCloudflareAccessRefusal(
      refusalBody(
        'posture_required',
        { postureCheck: 'D'.repeat(10_000) },
        'x'.repeat(100_000),
      ),
    );
    expect(refusal?.requirement?.postureCheck?.length).toBe(200);
    expect(refusal?.message.length).toBe(1000);
  });

  it('reads only what it needs from huge objects and strings', () => {
    const huge: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) {
      huge[`k${i}`] = { nested: i };
    }
    const start = Date.now();
    expect(getCloudflareAccessRefusal(huge)).toBeUndefined();
    expect(
      getCloudflareAccessRefusal({ ...refusalBody(), ...huge })?.reason,
    ).toBe('posture_required');

    // 10 MB of text with the backend's message near the start: too long to
    // parse, but the reason is still found.
    const text = `Backend request failed, 403 Forbidden ${JSON.stringify(
      refusalBody('warp_required', null),
    )}${' '.repeat(10_000_000)}`;
    expect(getCloudflareAccessRefusal(new Error(text))).toEqual({
      reason: 'warp_required',
      message:
        'Cloudflare Access boundary refused the request (warp_required): This device has not passed a device posture check this needs; fix what the check looks for, let the WARP client report again, and try again.',
    });
    // The posture check is read from the message too, quotes unescaped.
    const postureText = `Backend request failed, 403 Forbidden ${JSON.stringify(
      refusalBody(),
    )}${' '.repeat(10_000_000)}`;
    expect(getCloudflareAccessRefusal(new Error(postureText))).toEqual(
      POSTURE_REFUSAL,
    );
    expect(
      getCloudflareAccessRefusal(new Error(`{${'x'.repeat(10_000_000)}`)),
    ).toBeUndefined();
    expect(Date.now() - start).toBeLessThan(2000);
  });
});

describe('readCloudflareAccessRefusal', () => {
  it('reads a failed Response from a clone, leaving the body to the caller', async () => {
    const response = refusalResponse();
    await expect(readCloudflareAccessRefusal(response)).resolves.toEqual(
      POSTURE_REFUSAL,
    );
    expect(response.bodyUsed).toBe(false);
    await expect(response.json()).resolves.toEqual(refusalBody());
  });

  it('gives undefined for responses that are not refusals', async () => {
    await expect(
      readCloudflareAccessRefusal(
        refusalResponse(refusalBody(), { status: 200 }),
      ),
    ).resolves.toBeUndefined();
    await expect(
      readCloudflareAccessRefusal(new Response('<html>', { status: 403 })),
    ).resolves.toBeUndefined();
    await expect(
      readCloudflareAccessRefusal(new Response(null, { status: 503 })),
    ).resolves.toBeUndefined();
    const used = refusalResponse();
    await used.text();
    await expect(readCloudflareAccessRefusal(used)).resolves.toBeUndefined();
  });

  it('reads a body that is only text', async () => {
    await expect(
      readCloudflareAccessRefusal(
        new Response(POSTURE_REFUSAL.message, { status: 403 }),
      ),
    ).resolves.toEqual(POSTURE_REFUSAL);
  });

  it('reads what the sync variant reads', async () => {
    await expect(
      readCloudflareAccessRefusal(await refusalResponseError()),
    ).resolves.toEqual(POSTURE_REFUSAL);
    await expect(
      readCloudflareAccessRefusal(scaffolderError()),
    ).resolves.toEqual(POSTURE_REFUSAL);
    await expect(readCloudflareAccessRefusal(null)).resolves.toBeUndefined();
  });

  it('never rejects, even when reading the body fails', async () => {
    const broken = {
      status: 403,
      ok: false,
      bodyUsed: false,
      clone() {
        return {
          text: () => Promise.reject(new TypeError('network')),
        };
      },
      text: () => Promise.reject(new TypeError('network')),
    };
    await expect(readCloudflareAccessRefusal(broken)).resolves.toBeUndefined();
  });
});
