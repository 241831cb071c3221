/*
 * Every entry point of every installed package, from the app that installed it: node packages are
 * required and imported (and a default export declared in `backstage.features` has that `$$type`), web
 * packages resolve to a shipped file (the browser run loads them for real), and one file per workspace
 * imports every entry point for the app's own type check. (The declarations' own imports are checked
 * against the dependencies in tarballs.ts: much cheaper than the app's tsc:full, which took over 3
 * minutes here.)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { PackedPackage } from './tarballs';

const WEB_ROLES = [
  'web-library',
  'frontend-plugin',
  'frontend-plugin-module',
  'common-library',
];

export interface EntryPoint {
  specifier: string;
  subpath: string;
  pkg: PackedPackage;
  /** The app workspace that depends on the package. */
  workspace: string;
  web: boolean;
}

export function entryPointsOf(
  pkg: PackedPackage,
  workspace: string,
): EntryPoint[] {
  const subpaths = pkg.manifest.exports
    ? Object.keys(pkg.manifest.exports).filter(s => s !== './package.json')
    : ['.'];
  const web = WEB_ROLES.includes(pkg.manifest.backstage?.role);
  return subpaths.map(subpath => ({
    specifier: `${pkg.name}${subpath.slice(1)}`,
    subpath,
    pkg,
    workspace,
    web,
  }));
}

/** The app workspaces (packages/*) that list the package as a dependency. */
export function dependentWorkspaces(appDir: string, name: string): string[] {
  const packagesDir = path.join(appDir, 'packages');
  return fs
    .readdirSync(packagesDir)
    .map(dir => path.join(packagesDir, dir))
    .filter(dir => {
      const file = path.join(dir, 'package.json');
      return (
        fs.existsSync(file) &&
        name in (JSON.parse(fs.readFileSync(file, 'utf8')).dependencies ?? {})
      );
    });
}

const NODE_CHECK = `
const [specifier, subpath, featuresJson] = process.argv.slice(1);
const expected = JSON.parse(featuresJson)[subpath];
(async () => {
  const required = require(specifier);
  const imported = await import(specifier);
  const problems = [];
  for (const [how, mod] of [['require', required], ['import', imported]]) {
    const value = mod && mod.default;
    if (expected && (value && value.default ? value.default.$$type : value && value.$$type) !== expected) {
      problems.push(how + ': default export is not a ' + expected);
    }
  }
  console.log(JSON.stringify({ exports: Object.keys(required).length, problems }));
})().catch(error => { console.log(JSON.stringify({ problems: [String(error && error.message || error)] })); });
`;

const WEB_CHECK = `
const specifier = process.argv[1];
const resolved = import.meta.resolve(specifier);
const fs = await import('node:fs');
console.log(JSON.stringify({ resolved, problems: fs.existsSync(new URL(resolved)) ? [] : ['resolves to a missing file ' + resolved] }));
`;

/** Problems with one entry point at run time; empty when it loads. */
export function runtimeProblems(
  entry: EntryPoint,
  env: NodeJS.ProcessEnv,
): string[] {
  const features = JSON.stringify(entry.pkg.manifest.backstage?.features ?? {});
  try {
    const out = entry.web
      ? execFileSync(
          process.execPath,
          ['--input-type=module', '-e', WEB_CHECK, entry.specifier],
          {
            cwd: entry.workspace,
            env,
            encoding: 'utf8',
          },
        )
      : execFileSync(
          process.execPath,
          ['-e', NODE_CHECK, entry.specifier, entry.subpath, features],
          {
            cwd: entry.workspace,
            env,
            encoding: 'utf8',
          },
        );
    return JSON.parse(out.trim().split('\n').pop()!).problems;
  } catch (error: any) {
    return [
      String(error.stderr || error.message)
        .trim()
        .split('\n')[0],
    ];
  }
}

/**
 * Writes one file per workspace that imports every entry point, into the workspace's src/ so that the
 * app's own `yarn tsc` type-checks them with the app's settings (and no second TypeScript program is
 * needed). Nothing imports the files, so they are in no bundle.
 */
export function writeEntryPointImports(entries: EntryPoint[]): string[] {
  const byWorkspace = new Map<string, EntryPoint[]>();
  for (const entry of entries) {
    byWorkspace.set(entry.workspace, [
      ...(byWorkspace.get(entry.workspace) ?? []),
      entry,
    ]);
  }
  return [...byWorkspace].map(([workspace, list]) => {
    const file = path.join(
      workspace,
      'src',
      'cfaccessEntryPoints.adopterTest.ts',
    );
    fs.writeFileSync(
      file,
      `// Written by the adopter test: one import of every entry point, for the type check.\n${list
        .map((e, i) => `import * as entry${i} from '${e.specifier}';`)
        .join('\n')}\n\nexport const entryPoints = [${list
        .map((_, i) => `entry${i}`)
        .join(', ')}];\n`,
    );
    return file;
  });
}
