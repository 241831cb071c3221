/*
 * Every change the adopter test makes to the scaffolded app or to its commands that an adopter would not
 * make, in one place, each with its reason and whose problem it is. None of them belongs in the READMEs.
 *
 * - "this machine": the registry here is a partial copy and there is no internet; elsewhere not needed.
 * - "create-app 0.9.2": a bug of the pinned create-app; an adopter hits it too, and it is not ours to fix.
 * - "this test": the packages are packed minutes ago rather than published.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';
import { REGISTRY_URL } from './ports';

export interface Workaround {
  id: string;
  owner: 'this machine' | 'create-app 0.9.2' | 'this test';
  why: string;
}

export const WORKAROUNDS: Workaround[] = [
  {
    id: 'corepack-default-yarn',
    owner: 'this machine',
    why: "create-app checks `yarn -v` outside any project, where corepack wants the latest yarn and cannot verify the registry copy's signature for it; COREPACK_DEFAULT_TO_LATEST=0 lets it use the yarn it knows",
  },
  {
    id: 'no-yarn-lock-seed',
    owner: 'this machine',
    why: 'create-app fetches a yarn.lock seed from GitHub; there is no internet here and tests never call it, so fetches to non-loopback hosts fail at once, which create-app treats as "no seed" (with a warning)',
  },
  {
    id: 'registry-resolutions',
    owner: 'this machine',
    why: "the registry copy lacks some platform packages (YN0082) and has a broken @yarnpkg/core 4.9.2: the scaffold gets this repository's root `resolutions`, which pin them",
  },
  {
    id: 'signals-backend-0.3.19',
    owner: 'create-app 0.9.2',
    why: 'its template asks for @backstage/plugin-signals-backend ^0.3.19, which now resolves to 0.3.21; that needs backend-defaults 0.19 (`httpRouter.addWebSocketHandler is not a function` at startup) while the template pins backend-defaults ^0.18.0; pinned to 0.3.19, the version create-app 0.9.2 shipped with',
  },
  {
    id: 'skip-unused-builds',
    owner: 'this test',
    why: "install scripts of packages nothing in the test loads are not run (dependenciesMeta built: false), saving minutes of compiling on two cores: tree-sitter and its grammars (native parsers of swagger-ui, which API docs bundles for the browser), ssh2 and cpu-features (optional native crypto of docker-modem, for TechDocs in Docker), keytar (the CLI's keychain; fails to build here without libsecret) and @scarf/scarf (an install-time analytics call to the internet)",
  },
  {
    id: 'local-registry',
    owner: 'this test',
    why: 'the @cfaccess packages are not on the registry: a local registry serves the packed tarballs for the @cfaccess scope (yarn: npmScopes in .yarnrc.yml; npx: .npmrc)',
  },
  {
    id: 'age-gate',
    owner: 'this test',
    why: "create-app's .yarnrc.yml quarantines releases younger than 3 days (npmMinimalAgeGate: 3d) and the tarballs are minutes old: @cfaccess/* is pre-approved (the module README tells adopters the same)",
  },
  {
    id: 'fresh-npx-cache',
    owner: 'this test',
    why: "npx reuses a cached install of the same name and version: a per-run npm cache makes `npx @cfaccess/access-emulator` run this run's tarball",
  },
];

/** skip-unused-builds */
const UNUSED_BUILDS = [
  'tree-sitter',
  'tree-sitter-json',
  '@tree-sitter-grammars/tree-sitter-yaml',
  'ssh2',
  'cpu-features',
  'keytar',
  '@scarf/scarf',
];

/** The environment create-app runs in (corepack-default-yarn, no-yarn-lock-seed). */
export function createAppEnv(
  env: NodeJS.ProcessEnv,
  runDir: string,
): NodeJS.ProcessEnv {
  const preload = path.join(runDir, 'loopback-only-fetch.cjs');
  fs.writeFileSync(
    preload,
    `// no-yarn-lock-seed: fetches to anything but loopback fail at once.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  if (!['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    throw new Error('adopter test: no network beyond loopback (' + url.origin + ')');
  }
  return realFetch(input, init);
};
`,
  );
  return {
    ...env,
    COREPACK_DEFAULT_TO_LATEST: '0',
    NODE_OPTIONS: `--require ${preload}`,
  };
}

/** Changes to the scaffold before its first install (registry-resolutions, signals-backend-0.3.19, skip-unused-builds, local-registry, age-gate). */
export function prepareScaffold(appDir: string) {
  const ownResolutions = JSON.parse(
    fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'),
  ).resolutions;
  const pkgFile = path.join(appDir, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  pkg.resolutions = {
    ...pkg.resolutions,
    ...ownResolutions,
    '@backstage/plugin-signals-backend': '0.3.19',
  };
  pkg.dependenciesMeta = Object.fromEntries(
    UNUSED_BUILDS.map(name => [name, { built: false }]),
  );
  fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);

  const yarnrc = path.join(appDir, '.yarnrc.yml');
  const text = fs.readFileSync(yarnrc, 'utf8');
  if (!text.includes("  - '@backstage/*'\n")) {
    throw new Error(
      `create-app's .yarnrc.yml changed; the age-gate workaround expects npmPreapprovedPackages with '@backstage/*':\n${text}`,
    );
  }
  fs.writeFileSync(
    yarnrc,
    `${text.replace(
      "  - '@backstage/*'\n",
      "  - '@backstage/*'\n  - '@cfaccess/*'\n",
    )}npmScopes:\n  cfaccess:\n    npmRegistryServer: '${REGISTRY_URL}'\nunsafeHttpWhitelist:\n  - localhost\n`,
  );
  fs.writeFileSync(
    path.join(appDir, '.npmrc'),
    `@cfaccess:registry=${REGISTRY_URL}/\n`,
  );
}

/** The environment of the README's commands (fresh-npx-cache). */
export function readmeCommandEnv(
  env: NodeJS.ProcessEnv,
  runDir: string,
): NodeJS.ProcessEnv {
  return { ...env, npm_config_cache: path.join(runDir, 'npm-cache') };
}
