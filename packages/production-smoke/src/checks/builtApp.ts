/*
 * The backend serves the built app (app-backend), not a dev server, with the production config injected at
 * runtime; to requests that come through Access only (the Access boundary).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Report } from '@cfaccess/harness';
import { request } from '../https';
import { BACKEND_URL, EDGE_URL } from '../ports';

const DEVELOPMENT_URL = 'http://localhost:7000';

/** Files of the built app that contain the development URL: the build must not have loaded development config. */
function filesWithDevelopmentUrl(files: string[]): string[] {
  return files.filter(file =>
    fs.readFileSync(file, 'utf8').includes(DEVELOPMENT_URL),
  );
}

export async function checkBuiltApp(
  report: Report,
  appDir: string,
  accessToken: string,
) {
  const throughAccess = { headers: { 'Cf-Access-Jwt-Assertion': accessToken } };
  const distDir = path.join(appDir, 'packages/app/dist');
  const files = fs
    .readdirSync(distDir, { recursive: true, encoding: 'utf8' })
    .filter(name => /\.(js|html|tmpl)$/.test(name))
    .map(name => path.join(distDir, name));
  const leaked = filesWithDevelopmentUrl(files);
  report.check(
    'the app was built without development config',
    files.length > 0 && leaked.length === 0,
    `${files.length} scripts and pages in packages/app/dist, ${
      leaked.length
    } with ${DEVELOPMENT_URL}${
      leaked.length ? `: ${leaked.slice(0, 3).join(', ')}` : ''
    }`,
  );

  const around = await request(`${BACKEND_URL}/`);
  report.check(
    'the built app is not served around Access',
    around.status === 401,
    `GET / without an Access token: ${around.status}`,
  );

  const started = Date.now();
  const index = await request(`${BACKEND_URL}/`, throughAccess);
  const scripts = [...index.body.matchAll(/<script[^>]*src="([^"]+)"/g)].map(
    m => m[1],
  );
  const hashed = scripts.filter(src =>
    /^\/static\/[\w.-]+\.[0-9a-f]{8,}\.js$/.test(src),
  );
  const devServer =
    /webpack-dev-server|react-refresh|__webpack_hmr|rspack-dev-server/i.test(
      index.body,
    );
  report.check(
    'the backend serves the built app',
    index.status === 200 && hashed.length > 0 && !devServer,
    `GET / ${index.status}, ${hashed.length} content-hashed /static/ scripts of ${scripts.length}, dev server markers: ${devServer}`,
  );

  // app-backend injects the frontend config of the running backend: the production values, not the build's.
  const config = await injectedConfig(index.body, hashed, throughAccess);
  const baseUrls = [...config.matchAll(/"baseUrl"\s*:\s*"([^"]+)"/g)].map(
    m => m[1],
  );
  const development = config.includes(DEVELOPMENT_URL);
  report.check(
    'the built app gets the production config at runtime',
    baseUrls.includes(EDGE_URL) && !development,
    `injected baseUrls ${JSON.stringify([
      ...new Set(baseUrls),
    ])}, development URL ${development ? 'present' : 'absent'}, ${
      Date.now() - started
    } ms`,
  );
}

/** The injected config: in index.html, or else in the static script app-backend rewrote. */
async function injectedConfig(
  html: string,
  scripts: string[],
  throughAccess: { headers: Record<string, string> },
) {
  const inline =
    /<script type="backstage\.io\/config">([\s\S]*?)<\/script>/.exec(html);
  if (inline) {
    return inline[1];
  }
  for (const src of scripts) {
    const js = await request(`${BACKEND_URL}${src}`, throughAccess);
    if (js.body.includes('"baseUrl"')) {
      return js.body;
    }
  }
  return '';
}
