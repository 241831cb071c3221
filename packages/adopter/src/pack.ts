/*
 * The packages as they would be published: `yarn build:packages` (yarn tsc, then backstage-cli repo
 * build), then `yarn pack` in each published workspace, which runs backstage-cli's prepack/postpack
 * (publishConfig, exports, config schema) and rewrites workspace: ranges, as `yarn npm publish` does.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';
import { runCommand } from './shell';
import { type PackedPackage, readTarball } from './tarballs';

export interface Workspace {
  name: string;
  dir: string;
}

/** The workspaces that are published (not private), from yarn's own list. */
export function publishedWorkspaces(): Workspace[] {
  const out = execFileSync('yarn', ['workspaces', 'list', '--json'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter(Boolean)
    .map(line => JSON.parse(line) as { name: string; location: string })
    .map(({ name, location }) => ({ name, dir: path.join(repoRoot, location) }))
    .filter(({ dir }) => {
      const manifest = JSON.parse(
        fs.readFileSync(path.join(dir, 'package.json'), 'utf8'),
      );
      return manifest.private !== true;
    });
}

export async function packPublishedPackages(options: {
  outDir: string;
  env: NodeJS.ProcessEnv;
  log: (name: string) => string;
}): Promise<PackedPackage[]> {
  await runCommand('yarn build:packages', {
    cwd: repoRoot,
    env: options.env,
    logFile: options.log('build-packages'),
  });
  const packed: PackedPackage[] = [];
  for (const workspace of publishedWorkspaces()) {
    const file = path.join(
      options.outDir,
      `${workspace.name.replace(/^@/, '').replace('/', '-')}.tgz`,
    );
    await runCommand(`yarn pack --out ${file}`, {
      cwd: workspace.dir,
      env: options.env,
      logFile: options.log(`pack-${workspace.name}`),
    });
    packed.push(readTarball(file));
  }
  return packed;
}
