import {
  matchesRequest,
  parseRequestPattern,
  ruleSegments,
} from './requestPattern';

/** Whether a request (method as Node gives it, path as received) meets the pattern, in either reading. */
const matches = (pattern: string, method: string, path: string) =>
  ruleSegments(path).some(segments =>
    matchesRequest(parseRequestPattern(pattern), method, segments),
  );

/** The normalised reading of a path. */
const normalised = (path: string) => ruleSegments(path)[1];
/** The reading a route sees. */
const routed = (path: string) => ruleSegments(path)[0];

const PLAIN_PATH_ERROR =
  'must be a plain path (no query, %, \\, empty, . or .. segments; * only as a whole segment, not the first)';

describe('parseRequestPattern', () => {
  it('reads a path without methods as every method', () => {
    const pattern = parseRequestPattern('/api/scaffolder/v2/tasks');
    expect(pattern).toEqual({
      segments: ['api', 'scaffolder', 'v2', 'tasks'],
      below: false,
    });
    expect('methods' in pattern).toBe(false);
  });

  it('reads one method, upper-cased', () => {
    expect(parseRequestPattern('post /api/scaffolder/v2/tasks')).toEqual({
      methods: new Set(['POST']),
      segments: ['api', 'scaffolder', 'v2', 'tasks'],
      below: false,
    });
  });

  it('reads a list of methods', () => {
    expect(
      parseRequestPattern('PUT,PATCH,DELETE /api/catalog/locations/*').methods,
    ).toEqual(new Set(['PUT', 'PATCH', 'DELETE']));
  });

  it('adds HEAD to GET, which Express answers with the GET route', () => {
    expect(parseRequestPattern('GET /api/catalog/entities').methods).toEqual(
      new Set(['GET', 'HEAD']),
    );
    expect(
      parseRequestPattern('POST,GET /api/catalog/entities').methods,
    ).toEqual(new Set(['POST', 'GET', 'HEAD']));
    expect(parseRequestPattern('POST /api/catalog/entities').methods).toEqual(
      new Set(['POST']),
    );
  });

  it('reads surrounding and separating whitespace', () => {
    expect(parseRequestPattern('  GET \t /api/x  ')).toEqual({
      methods: new Set(['GET', 'HEAD']),
      segments: ['api', 'x'],
      below: false,
    });
  });

  it('lower-cases the path', () => {
    expect(parseRequestPattern('/API/Scaffolder').segments).toEqual([
      'api',
      'scaffolder',
    ]);
  });

  it('reads a final * as everything below', () => {
    expect(parseRequestPattern('/api/scaffolder/v2/actions/*')).toEqual({
      segments: ['api', 'scaffolder', 'v2', 'actions', '*'],
      below: true,
    });
  });

  it('reads a * in the middle as one segment, not as below', () => {
    expect(parseRequestPattern('/api/scaffolder/v2/tasks/*/cancel')).toEqual({
      segments: ['api', 'scaffolder', 'v2', 'tasks', '*', 'cancel'],
      below: false,
    });
  });

  it('takes the characters routes are spelled with', () => {
    expect(
      parseRequestPattern("/api/a-b_c.d~e/f:g@h/i!$&'()+,;=").segments,
    ).toEqual(['api', 'a-b_c.d~e', 'f:g@h', "i!$&'()+,;="]);
  });

  it.each(['api/scaffolder', 'POST api/scaffolder', '*', '', '   '])(
    'refuses %j: no path starting with /',
    text => {
      expect(() => parseRequestPattern(text)).toThrow(
        `must have a path starting with /, got ${JSON.stringify(text)}`,
      );
    },
  );

  it.each([
    ['FETCH /api/x', 'FETCH'],
    ['GET,FETCH /api/x', 'FETCH'],
    ['GET, /api/x', ''],
    ['CONNECT /api/x', 'CONNECT'],
    ['TRACE /api/x', 'TRACE'],
    ['* /api/x', '*'],
  ])('refuses %j: an unknown method', (text, method) => {
    expect(() => parseRequestPattern(text)).toThrow(
      `names an HTTP method that is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS: ${JSON.stringify(
        method,
      )}`,
    );
  });

  it.each(['GET POST /api/x', 'GET, POST /api/x', 'GET /api/x extra'])(
    'refuses %j: more than two words',
    text => {
      expect(() => parseRequestPattern(text)).toThrow(
        `must be "[METHOD] /path", got ${JSON.stringify(text)}`,
      );
    },
  );

  it.each([
    '/',
    '/*',
    '/*/scaffolder',
    'GET /*',
    '/api//scaffolder',
    '/api/scaffolder/',
    '/api/./scaffolder',
    '/api/../scaffolder',
    '/api/scaffolder/..',
    '/api/%2e%2e/scaffolder',
    '/api/%74asks',
    '/api/scaffolder%2Fv2',
    '/api\\scaffolder',
    '/api/scaffolder?x=1',
    '/api/scaffolder#x',
    '/api/scaffolder/v*',
    '/api/scaffolder/**',
    '/api/événements',
    '/api/a"b',
  ])('refuses %j: not a plain path', text => {
    expect(() => parseRequestPattern(text)).toThrow(
      `${PLAIN_PATH_ERROR}, got ${JSON.stringify(text)}`,
    );
  });
});

describe('ruleSegments', () => {
  it.each([
    ['/api/scaffolder/v2/tasks', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/API/Scaffolder/V2/Tasks', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/api/scaffolder/v2/tasks/', ['api', 'scaffolder', 'v2', 'tasks']],
    ['//api///scaffolder//v2/tasks', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/api/./scaffolder/./v2/tasks/.', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/api/x/../scaffolder/v2/tasks', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/../../api/scaffolder', ['api', 'scaffolder']],
    ['/api/scaffolder/v2/%74asks', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/api/scaffolder/v2/%54ASKS', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/api/scaffolder%2Fv2%2ftasks', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/api/x/%2e%2e/scaffolder', ['api', 'scaffolder']],
    ['/api\\scaffolder\\v2\\tasks', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/api/scaffolder%5Cv2/tasks', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/', []],
    ['', []],
  ])('normalises %j to %j', (path, segments) => {
    expect(normalised(path)).toEqual(segments);
  });

  it.each([
    ['/api/scaffolder/v2/tasks', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/api/scaffolder/v2/tasks/', ['api', 'scaffolder', 'v2', 'tasks']],
    ['/API/Scaffolder//Tasks', ['api', 'scaffolder', '', 'tasks']],
    [
      '/api/scaffolder/v2/tasks/../cancel',
      ['api', 'scaffolder', 'v2', 'tasks', '..', 'cancel'],
    ],
    [
      '/api/scaffolder/v2/tasks/%2e%2e/cancel',
      ['api', 'scaffolder', 'v2', 'tasks', '..', 'cancel'],
    ],
    ['/api/catalog/x%2F..', ['api', 'catalog', 'x/..']],
    ['/', ['']],
  ])('reads %j as a route sees it: %j', (path, segments) => {
    expect(routed(path)).toEqual(segments);
  });

  it.each(['/api/scaffolder/v2/tasks%', '/api/%zz/tasks'])(
    'reads %j, a %% that starts no escape, as written without throwing',
    path => {
      expect(() => ruleSegments(path)).not.toThrow();
      expect(normalised(path)).toEqual(path.toLowerCase().split('/').slice(1));
    },
  );

  it('decodes the valid escapes of a path that also has invalid ones', () => {
    // `%E0%A4` is not UTF-8 on its own: read byte by byte; the rest still decodes.
    expect(normalised('/api/%E0%A4%A/x/..%2Fadmin/%ff')).toEqual([
      'api',
      '\u00e0\u00a4%a',
      'admin',
      '\u00ff',
    ]);
    expect(normalised('/api/proxy/svc/x/..%2Fadmin/y/%ff')).toEqual([
      'api',
      'proxy',
      'svc',
      'admin',
      'y',
      '\u00ff',
    ]);
  });

  it('drops segment parameters in the normalised reading', () => {
    expect(normalised('/api/proxy/svc/admin;x/y')).toEqual([
      'api',
      'proxy',
      'svc',
      'admin',
      'y',
    ]);
    expect(
      matches('/api/proxy/svc/admin/*', 'GET', '/api/proxy/svc/admin;x/y'),
    ).toBe(true);
  });

  it('refuses a route parameter in a pattern', () => {
    expect(() =>
      parseRequestPattern('/api/catalog/entities/by-name/:kind/*/*'),
    ).toThrow(
      'has a route parameter (":kind"); write * for any one segment, got "/api/catalog/entities/by-name/:kind/*/*"',
    );
  });

  it('does not decode twice', () => {
    expect(normalised('/api/scaffolder/v2/%2574asks')).toEqual([
      'api',
      'scaffolder',
      'v2',
      '%74asks',
    ]);
  });
});

describe('matchesRequest', () => {
  const TASKS = 'POST /api/scaffolder/v2/tasks';

  it.each([
    ['POST /api/scaffolder/v2/tasks/*', '/api/scaffolder/v2/tasks/../cancel'],
    [
      'POST /api/scaffolder/v2/tasks/*',
      '/api/scaffolder/v2/tasks/%2e%2e/cancel',
    ],
    [
      'GET /api/catalog/entities/by-name/*/*/*',
      '/api/catalog/entities/by-name/component/default/x%2F..',
    ],
    ['/api/proxy/admin/*', '/api/proxy/admin/%2e%2e/%2e%2e/x'],
    ['/api/proxy/admin/*', '/api/proxy/admin/../../x'],
  ])(
    'applies %j to %j, which a route reads with .. as a segment',
    (pattern, path) => {
      expect(
        matches(pattern, pattern.startsWith('GET') ? 'GET' : 'POST', path),
      ).toBe(true);
    },
  );

  it('matches the path as written', () => {
    expect(matches(TASKS, 'POST', '/api/scaffolder/v2/tasks')).toBe(true);
  });

  it.each([
    '/API/Scaffolder/V2/TASKS',
    '/api/scaffolder/v2/tasks/',
    '/api//scaffolder/v2//tasks',
    '/api/scaffolder/./v2/tasks',
    '/api/x/../scaffolder/v2/tasks',
    '/api/scaffolder/v2/x/../tasks',
    '/api/scaffolder/v2/%74asks',
    '/api/scaffolder/v2/%74%61%73%6B%73',
    '/api/scaffolder%2Fv2/tasks',
    '/api/scaffolder/v2%2ftasks',
    '/api\\scaffolder\\v2\\tasks',
    '/api/scaffolder/v2/tasks/.',
  ])('matches another spelling of it: %s', path => {
    expect(matches(TASKS, 'POST', path)).toBe(true);
  });

  it.each([
    '/api/scaffolder/v2/task',
    '/api/scaffolder/v2/tasks/x',
    '/api/scaffolder/v2',
    '/api/scaffolder/v2/tasks/..',
    '/api/scaffolder/v3/tasks',
    '/api/scaffolderx/v2/tasks',
    '/api/scaffolder/v2/%2574asks',
    '/api/scaffolder/v2/tasks%',
  ])('does not match another path: %s', path => {
    expect(matches(TASKS, 'POST', path)).toBe(false);
  });

  it('does not throw on an invalid percent escape', () => {
    expect(() =>
      matches('/api/scaffolder/*', 'GET', '/api/scaffolder/%E0%A4%A'),
    ).not.toThrow();
    expect(matches('/api/scaffolder/*', 'GET', '/api/scaffolder/%zz')).toBe(
      true,
    );
  });

  it('matches only the methods named', () => {
    expect(matches(TASKS, 'GET', '/api/scaffolder/v2/tasks')).toBe(false);
    expect(matches(TASKS, 'PUT', '/api/scaffolder/v2/tasks')).toBe(false);
    expect(matches(TASKS, 'HEAD', '/api/scaffolder/v2/tasks')).toBe(false);
    const list = 'PUT,DELETE /api/catalog/locations/*';
    expect(matches(list, 'PUT', '/api/catalog/locations/1')).toBe(true);
    expect(matches(list, 'DELETE', '/api/catalog/locations/1')).toBe(true);
    expect(matches(list, 'POST', '/api/catalog/locations/1')).toBe(false);
  });

  it('matches HEAD with a GET pattern', () => {
    expect(matches('GET /api/x', 'HEAD', '/api/x')).toBe(true);
    expect(matches('GET /api/x', 'GET', '/api/x')).toBe(true);
    expect(matches('GET /api/x', 'OPTIONS', '/api/x')).toBe(false);
  });

  it('matches every method without a method list', () => {
    for (const method of ['GET', 'POST', 'DELETE', 'PROPFIND', 'PURGE']) {
      expect(matches('/api/x', method, '/api/x')).toBe(true);
    }
  });

  it('compares methods as given (the caller upper-cases them)', () => {
    expect(
      matchesRequest(parseRequestPattern(TASKS), 'post', [
        'api',
        'scaffolder',
        'v2',
        'tasks',
      ]),
    ).toBe(false);
  });

  it('matches a final * as one or more segments below, not the path itself', () => {
    const below = '/api/scaffolder/v2/actions/*';
    expect(matches(below, 'GET', '/api/scaffolder/v2/actions/x')).toBe(true);
    expect(matches(below, 'GET', '/api/scaffolder/v2/actions/x/y/z')).toBe(
      true,
    );
    expect(matches(below, 'GET', '/api/scaffolder/v2/actions')).toBe(false);
    expect(matches(below, 'GET', '/api/scaffolder/v2/actions/')).toBe(false);
    // A route reads an empty segment there: the rule applies, which only refuses more.
    expect(matches(below, 'GET', '/api/scaffolder/v2/actions//')).toBe(true);
    expect(matches(below, 'GET', '/api/scaffolder/v2/actions/./')).toBe(true);
    expect(matches(below, 'GET', '/api/scaffolder/v2/actionsx/y')).toBe(false);
    expect(matches(below, 'GET', '/api/scaffolder/v2')).toBe(false);
  });

  it('matches a * in the middle as exactly one segment', () => {
    const cancel = 'POST /api/scaffolder/v2/tasks/*/cancel';
    expect(matches(cancel, 'POST', '/api/scaffolder/v2/tasks/abc/cancel')).toBe(
      true,
    );
    expect(
      matches(cancel, 'POST', '/api/scaffolder/v2/tasks/ABC/Cancel/'),
    ).toBe(true);
    expect(matches(cancel, 'POST', '/api/scaffolder/v2/tasks/cancel')).toBe(
      false,
    );
    expect(matches(cancel, 'POST', '/api/scaffolder/v2/tasks/a/b/cancel')).toBe(
      false,
    );
    expect(
      matches(cancel, 'POST', '/api/scaffolder/v2/tasks/abc/cancel/x'),
    ).toBe(false);
    expect(matches(cancel, 'POST', '/api/scaffolder/v2/tasks/abc/events')).toBe(
      false,
    );
  });

  it('matches a wildcard and a final * together', () => {
    const pattern = '/api/catalog/entities/by-name/*/*/*';
    expect(
      matches(pattern, 'GET', '/api/catalog/entities/by-name/component/x/y'),
    ).toBe(true);
    expect(
      matches(pattern, 'GET', '/api/catalog/entities/by-name/component/x/y/z'),
    ).toBe(true);
    expect(
      matches(pattern, 'GET', '/api/catalog/entities/by-name/component/x'),
    ).toBe(false);
  });
});
