/**
 * Which requests a rule is for: `[METHOD[,METHOD…]] /path`, where a `*`
 * segment is any one segment and a final `*` is one or more (everything
 * below): `POST /api/scaffolder/v2/tasks`, `/api/scaffolder/v2/actions/*`.
 */
export type RequestPattern = {
  /** Upper-case methods; undefined: every method. */
  methods?: ReadonlySet<string>;
  /** Lower-case segments; `*` is a wildcard. */
  segments: readonly string[];
  /** The last `*` matches one or more segments. */
  below: boolean;
};

const METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);

// What a pattern's literal segments may hold: a path as routes spell it.
const LITERAL_SEGMENT = /^[a-z0-9._~!$&'()+,;=:@-]+$/;

/** A configured pattern, or an error saying why it is not one. */
export function parseRequestPattern(text: string): RequestPattern {
  const parts = text.trim().split(/\s+/);
  if (parts.length > 2) {
    throw new Error(`must be "[METHOD] /path", got ${JSON.stringify(text)}`);
  }
  const path = parts[parts.length - 1];
  let methods: Set<string> | undefined;
  if (parts.length === 2) {
    methods = new Set(parts[0].toUpperCase().split(','));
    const unknown = [...methods].find(method => !METHODS.has(method));
    if (unknown !== undefined) {
      throw new Error(
        `names an HTTP method that is not one of ${[...METHODS].join(
          ', ',
        )}: ${JSON.stringify(unknown)}`,
      );
    }
    // Express answers HEAD with the GET route.
    if (methods.has('GET')) {
      methods.add('HEAD');
    }
  }
  if (!path.startsWith('/')) {
    throw new Error(
      `must have a path starting with /, got ${JSON.stringify(text)}`,
    );
  }
  const segments = path.slice(1).toLowerCase().split('/');
  const plain = segments.every(
    segment =>
      segment === '*' ||
      (LITERAL_SEGMENT.test(segment) && segment !== '.' && segment !== '..'),
  );
  const parameter = segments.find(segment => segment.startsWith(':'));
  if (parameter !== undefined) {
    throw new Error(
      `has a route parameter (${JSON.stringify(
        parameter,
      )}); write * for any one segment, got ${JSON.stringify(text)}`,
    );
  }
  if (!plain || segments[0] === '*') {
    throw new Error(
      `must be a plain path (no query, %, \\, empty, . or .. segments; * only as a whole segment, not the first), got ${JSON.stringify(
        text,
      )}`,
    );
  }
  return {
    ...(methods && { methods }),
    segments,
    below: segments[segments.length - 1] === '*',
  };
}

const ESCAPES = /(?:%[0-9a-f]{2})+/gi;

/**
 * Decodes the percent escapes of a path, each run on its own: a run that is
 * not UTF-8 is read byte by byte, and a `%` that starts no escape stays, so
 * one bad escape does not leave the rest of the path encoded.
 */
function decode(text: string): string {
  if (!text.includes('%')) {
    return text;
  }
  return text.replace(ESCAPES, run => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-9a-f]{2})/gi, (_, hex: string) =>
        String.fromCharCode(parseInt(hex, 16)),
      );
    }
  });
}

/**
 * The segments of a request path, in the two ways the rules read it, both in
 * lower case (Backstage routes ignore case):
 *
 * - as a route sees it: split on `/` as received, each piece decoded on its
 *   own, `.`, `..` and empty segments kept as segments (a route parameter can
 *   be `..`, or `a/b` from `a%2Fb`); one trailing `/` dropped;
 * - normalised: the whole path decoded, split on `/` and `\`, parameters
 *   (`;x`), empty and `.` segments dropped and `..` applied, as a proxy or
 *   another server behind a route may read what it forwards.
 *
 * A rule applies when either reading matches it: any spelling that reaches a
 * route, or reaches what a route forwards to, meets the rule written for its
 * plain form; some that reach nothing meet it too, which only refuses more.
 */
export function ruleSegments(path: string): string[][] {
  const routed = path
    .split('/')
    .slice(1)
    .map(piece => decode(piece).toLowerCase());
  if (routed.length > 1 && routed[routed.length - 1] === '') {
    routed.pop();
  }
  const normalised: string[] = [];
  for (const piece of decode(path).toLowerCase().split(/[/\\]/)) {
    // Some servers behind a proxy drop a segment's parameters (`admin;x`).
    const segment = piece.split(';', 1)[0];
    if (segment === '' || segment === '.') {
      continue;
    }
    if (segment === '..') {
      normalised.pop();
    } else {
      normalised.push(segment);
    }
  }
  return [routed, normalised];
}

/** Whether a request (upper-case method, one reading of ruleSegments) is one the pattern names. */
export function matchesRequest(
  pattern: RequestPattern,
  method: string,
  segments: readonly string[],
): boolean {
  if (pattern.methods && !pattern.methods.has(method)) {
    return false;
  }
  const wanted = pattern.segments;
  if (
    pattern.below
      ? segments.length < wanted.length
      : segments.length !== wanted.length
  ) {
    return false;
  }
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i] !== '*' && wanted[i] !== segments[i]) {
      return false;
    }
  }
  return true;
}
