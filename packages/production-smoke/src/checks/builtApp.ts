/*
 * The backend serves the built app (app-backend), not a dev server, with the production config injected at
 * runtime.
 */
import type { Report } from '@cfaccess/harness';
import { request } from '../https';
import { BACKEND_URL, EDGE_URL } from '../ports';

export async function checkBuiltApp(report: Report) {
  const started = Date.now();
  const index = await request(`${BACKEND_URL}/`);
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
  const config = await injectedConfig(index.body, hashed);
  const baseUrls = [...config.matchAll(/"baseUrl"\s*:\s*"([^"]+)"/g)].map(
    m => m[1],
  );
  const development = config.includes('localhost:7000');
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
async function injectedConfig(html: string, scripts: string[]) {
  const inline =
    /<script type="backstage\.io\/config">([\s\S]*?)<\/script>/.exec(html);
  if (inline) {
    return inline[1];
  }
  for (const src of scripts) {
    const js = await request(`${BACKEND_URL}${src}`);
    if (js.body.includes('"baseUrl"')) {
      return js.body;
    }
  }
  return '';
}
