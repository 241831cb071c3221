/*
 * The environment the scaffolded app's commands run in: this machine's toolchain (Node 22, yarn through
 * corepack, the registry it is configured with), without what the outer `yarn workspace ... adopter`
 * run adds for its own scripts (yarn's temporary bin folder, npm_package_* and friends), so the app's
 * own yarn and npx behave as in an adopter's shell.
 */
const KEEP = new Set(['npm_config_nodedir']);

export function adopterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    const fromOuterYarn =
      (lower.startsWith('npm_') && !KEEP.has(lower)) ||
      key.startsWith('BERRY_') ||
      key === 'INIT_CWD' ||
      key === 'PROJECT_CWD' ||
      key === 'NODE_OPTIONS';
    if (!fromOuterYarn) {
      env[key] = value;
    }
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter(dir => !/\/xfs-[^/]+$/.test(dir))
    .join(':');
  return { ...env, ...extra };
}
