/*
 * Upstream's module on the project's jose (6) instead of its own (5): a second copy of its code, loaded
 * with `jose` resolved to the copy our module uses, so that the first-verification benchmark can compare
 * the two modules on the same jose major and tell our own work from jose's.
 */
import Module from 'node:module';
import path from 'node:path';

type ResolveFilename = (
  request: string,
  parent: { filename?: string } | undefined,
  ...rest: unknown[]
) => string;

const UPSTREAM =
  '@backstage/plugin-auth-backend-module-cloudflare-access-provider';

export function loadUpstreamOnOurJose(): typeof import('@backstage/plugin-auth-backend-module-cloudflare-access-provider').createCloudflareAccessAuthenticator {
  const upstreamDir = `${path.dirname(
    require.resolve(`${UPSTREAM}/package.json`),
  )}${path.sep}`;
  const ourJose = require.resolve('jose');
  const ownJose = require.resolve('jose', { paths: [upstreamDir] });
  // Upstream's own files, not its node_modules (its own jose lives there).
  const isUpstreamFile = (file?: string) =>
    !!file &&
    file.startsWith(upstreamDir) &&
    !file.slice(upstreamDir.length).startsWith('node_modules');
  const loader = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = loader._resolveFilename;
  // Node answers a repeated require from the same folder out of a cache of
  // resolutions while the resolved module is loaded: upstream's own jose
  // leaves the module cache too, so that `jose` is resolved anew.
  const cached = Object.keys(require.cache).filter(
    key => isUpstreamFile(key) || key === ownJose,
  );
  const saved = cached.map(key => [key, require.cache[key]] as const);
  cached.forEach(key => delete require.cache[key]);
  let redirected = 0;
  loader._resolveFilename = function resolve(request, parent, ...rest) {
    if (request === 'jose' && isUpstreamFile(parent?.filename)) {
      redirected += 1;
      return ourJose;
    }
    return original.call(this, request, parent, ...rest);
  };
  try {
    // eslint-disable-next-line @backstage/no-undeclared-imports
    const loaded =
      require(UPSTREAM) as typeof import('@backstage/plugin-auth-backend-module-cloudflare-access-provider');
    if (redirected === 0) {
      throw new Error(`${UPSTREAM} was loaded without asking for jose`);
    }
    return loaded.createCloudflareAccessAuthenticator;
  } finally {
    loader._resolveFilename = original;
    // The second copy stays with whoever holds it; everyone else gets the original again.
    Object.keys(require.cache)
      .filter(key => isUpstreamFile(key) || key === ownJose)
      .forEach(key => delete require.cache[key]);
    saved.forEach(([key, entry]) => {
      require.cache[key] = entry;
    });
  }
}
