import { createServer, Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readRequestCredentials } from './requestCredentials';

/*
 * The credentials are read from requests as Node's HTTP server parses them
 * (raw header list, joined Cookie headers), sent over a plain socket so that
 * repeated headers reach the server exactly as written.
 */

const defaultNames = {
  jwtHeaderName: 'cf-access-jwt-assertion',
  authorizationCookieName: 'CF_Authorization',
};
let names = defaultNames;

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(readRequestCredentials(req, names)));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

beforeEach(() => {
  names = defaultNames;
});

afterAll(async () => {
  await new Promise<void>(resolve => server.close(() => resolve()));
});

/** What readRequestCredentials makes of a request with these header lines, in this order. */
function credentialsOf(headers: [string, string][]): Promise<any> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', chunk => {
      response += chunk;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const [head, body] = response.split('\r\n\r\n');
      if (!head.startsWith('HTTP/1.1 200')) {
        reject(new Error(`unexpected answer: ${head}`));
        return;
      }
      resolve(JSON.parse(body));
    });
    const lines = [
      'GET /api/catalog/entities HTTP/1.1',
      'Host: 127.0.0.1',
      ...headers.map(([name, value]) => `${name}: ${value}`),
      'Connection: close',
      '',
      '',
    ];
    socket.end(lines.join('\r\n'));
  });
}

describe('readRequestCredentials', () => {
  it('reads a request without credentials', async () => {
    expect(await credentialsOf([])).toEqual({
      ok: true,
      hasAuthorization: false,
    });
  });

  describe('the Access token', () => {
    it('comes from the header, whatever the case of its name', async () => {
      expect(
        await credentialsOf([['Cf-Access-Jwt-Assertion', 'aaa.bbb.ccc']]),
      ).toEqual({
        ok: true,
        accessToken: 'aaa.bbb.ccc',
        hasAuthorization: false,
      });
      expect(
        await credentialsOf([['CF-ACCESS-JWT-ASSERTION', 'aaa.bbb.ccc']]),
      ).toMatchObject({ ok: true, accessToken: 'aaa.bbb.ccc' });
    });

    it('comes from the cookie when there is no header', async () => {
      expect(
        await credentialsOf([
          ['Cookie', 'theme=dark; CF_Authorization=aaa.bbb.ccc; x=1'],
        ]),
      ).toEqual({
        ok: true,
        accessToken: 'aaa.bbb.ccc',
        hasAuthorization: false,
      });
    });

    it('passes a header and a cookie that carry the same token', async () => {
      expect(
        await credentialsOf([
          ['Cf-Access-Jwt-Assertion', 'aaa.bbb.ccc'],
          ['Cookie', 'CF_Authorization=aaa.bbb.ccc'],
        ]),
      ).toMatchObject({ ok: true, accessToken: 'aaa.bbb.ccc' });
    });

    it('takes an empty header for none, and then the cookie', async () => {
      expect(await credentialsOf([['Cf-Access-Jwt-Assertion', '']])).toEqual({
        ok: true,
        hasAuthorization: false,
      });
      expect(
        await credentialsOf([
          ['Cf-Access-Jwt-Assertion', ''],
          ['Cookie', 'CF_Authorization=aaa.bbb.ccc'],
        ]),
      ).toMatchObject({ ok: true, accessToken: 'aaa.bbb.ccc' });
    });

    it('does not take a cookie whose name only ends like the Access cookie', async () => {
      expect(
        await credentialsOf([['Cookie', 'xCF_Authorization=aaa.bbb.ccc']]),
      ).toEqual({ ok: true, hasAuthorization: false });
    });

    it.each([
      [
        'two headers with different tokens',
        [
          ['Cf-Access-Jwt-Assertion', 'aaa.bbb.ccc'],
          ['Cf-Access-Jwt-Assertion', 'ddd.eee.fff'],
        ],
        '2 cf-access-jwt-assertion headers',
      ],
      [
        'two headers with the same token',
        [
          ['Cf-Access-Jwt-Assertion', 'aaa.bbb.ccc'],
          ['cf-access-jwt-assertion', 'aaa.bbb.ccc'],
        ],
        '2 cf-access-jwt-assertion headers',
      ],
      [
        'two headers, the first one empty',
        [
          ['Cf-Access-Jwt-Assertion', ''],
          ['Cf-Access-Jwt-Assertion', 'aaa.bbb.ccc'],
        ],
        '2 cf-access-jwt-assertion headers',
      ],
      [
        'two cookies in one Cookie header',
        [
          [
            'Cookie',
            'CF_Authorization=aaa.bbb.ccc; CF_Authorization=ddd.eee.fff',
          ],
        ],
        '2 CF_Authorization cookies',
      ],
      [
        'two cookies in two Cookie headers',
        [
          ['Cookie', 'CF_Authorization=aaa.bbb.ccc'],
          ['Cookie', 'CF_Authorization=aaa.bbb.ccc'],
        ],
        '2 CF_Authorization cookies',
      ],
      [
        'a header and a cookie that differ',
        [
          ['Cf-Access-Jwt-Assertion', 'aaa.bbb.ccc'],
          ['Cookie', 'CF_Authorization=ddd.eee.fff'],
        ],
        'the cf-access-jwt-assertion header and the CF_Authorization cookie carry different tokens',
      ],
    ] as [string, [string, string][], string][])(
      'refuses %s with conflicting_tokens',
      async (_, headers, detail) => {
        expect(await credentialsOf(headers)).toEqual({
          ok: false,
          reason: 'conflicting_tokens',
          detail,
        });
      },
    );
  });

  describe("Backstage's cookie", () => {
    it('is read beside the Access token', async () => {
      expect(
        await credentialsOf([
          [
            'Cookie',
            'backstage-auth=bbb.ccc.ddd; CF_Authorization=aaa.bbb.ccc',
          ],
        ]),
      ).toEqual({
        ok: true,
        accessToken: 'aaa.bbb.ccc',
        backstageCookie: 'bbb.ccc.ddd',
        hasAuthorization: false,
      });
    });

    it('is refused twice with conflicting_credentials', async () => {
      const expected = {
        ok: false,
        reason: 'conflicting_credentials',
        detail: '2 backstage-auth cookies',
      };
      expect(
        await credentialsOf([
          ['Cookie', 'backstage-auth=bbb.ccc.ddd; backstage-auth=eee.fff.ggg'],
        ]),
      ).toEqual(expected);
      expect(
        await credentialsOf([
          ['Cookie', 'backstage-auth=bbb.ccc.ddd'],
          [
            'Cookie',
            'CF_Authorization=aaa.bbb.ccc; backstage-auth=bbb.ccc.ddd',
          ],
        ]),
      ).toEqual(expected);
    });
  });

  describe('the Authorization header', () => {
    it.each([
      ['Bearer abc.def-ghi_jkl', 'abc.def-ghi_jkl'],
      ['bearer abc.def', 'abc.def'],
      ['BEARER abc.def', 'abc.def'],
      ['Bearer a+b/c~d==', 'a+b/c~d=='],
    ])('reads %j as one bearer token', async (value, bearer) => {
      expect(await credentialsOf([['Authorization', value]])).toEqual({
        ok: true,
        bearer,
        hasAuthorization: true,
      });
    });

    it.each([
      'Basic dXNlcjpwYXNzd29yZA==',
      'Bearer oauth:abc',
      'Bearer',
      'Token abc',
    ])('reads %j as no bearer token and no conflict', async value => {
      expect(await credentialsOf([['Authorization', value]])).toEqual({
        ok: true,
        hasAuthorization: true,
      });
    });

    it.each([
      'Bearer aaa, Basic dXNlcjpwYXNzd29yZA==',
      'Basic dXNlcjpwYXNzd29yZA==, Bearer aaa',
      'Bearer aaa bbb',
      'Bearer aaa,bbb',
      'Bearer  aaa',
      'Basic a b',
    ])(
      'refuses %j, more than one credential, with conflicting_credentials',
      async value => {
        expect(await credentialsOf([['Authorization', value]])).toEqual({
          ok: false,
          reason: 'conflicting_credentials',
          detail: 'the Authorization header carries more than one credential',
        });
      },
    );

    it('refuses two Authorization headers with conflicting_credentials, even equal ones', async () => {
      for (const second of ['Bearer aaa', 'Bearer bbb', 'Basic xyz']) {
        expect(
          await credentialsOf([
            ['Authorization', 'Bearer aaa'],
            ['authorization', second],
          ]),
        ).toEqual({
          ok: false,
          reason: 'conflicting_credentials',
          detail: '2 Authorization headers',
        });
      }
    });

    it('is read beside the Access token and the Backstage cookie', async () => {
      expect(
        await credentialsOf([
          ['Authorization', 'Bearer xxx.yyy.zzz'],
          ['Cf-Access-Jwt-Assertion', 'aaa.bbb.ccc'],
          ['Cookie', 'backstage-auth=bbb.ccc.ddd'],
        ]),
      ).toEqual({
        ok: true,
        accessToken: 'aaa.bbb.ccc',
        bearer: 'xxx.yyy.zzz',
        hasAuthorization: true,
        backstageCookie: 'bbb.ccc.ddd',
      });
    });
  });

  it('reads the Access header and cookie under the configured names only', async () => {
    names = {
      jwtHeaderName: 'x-access-token',
      authorizationCookieName: 'AccessCookie',
    };
    expect(
      await credentialsOf([
        ['Cf-Access-Jwt-Assertion', 'ignored.token.here'],
        ['X-Access-Token', 'aaa.bbb.ccc'],
        ['Cookie', 'CF_Authorization=x.y.z; CF_Authorization=x.y.w'],
      ]),
    ).toEqual({
      ok: true,
      accessToken: 'aaa.bbb.ccc',
      hasAuthorization: false,
    });
    expect(
      await credentialsOf([
        ['Cookie', 'CF_Authorization=x.y.z; AccessCookie=a.b.c'],
      ]),
    ).toEqual({ ok: true, accessToken: 'a.b.c', hasAuthorization: false });
  });
});
