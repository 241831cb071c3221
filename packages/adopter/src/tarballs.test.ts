import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readTarball, tarballProblems } from './tarballs';

const dirs: string[] = [];
afterAll(() =>
  dirs.forEach(dir => fs.rmSync(dir, { recursive: true, force: true })),
);

/** A tarball laid out as `yarn pack` writes one: everything under package/. */
function makeTarball(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adopter-tarball-test-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, 'package', name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  const tgz = path.join(dir, 'pkg.tgz');
  execFileSync('tar', ['-czf', tgz, '-C', dir, 'package']);
  return tgz;
}

const manifest = (extra: object) =>
  JSON.stringify({
    name: '@x/pkg',
    version: '1.0.0',
    main: 'dist/index.cjs.js',
    types: 'dist/index.d.ts',
    dependencies: { '@backstage/config': '^1.0.0' },
    ...extra,
  });

describe('tarballProblems', () => {
  it('accepts a package whose manifest points at shipped files', () => {
    const pkg = readTarball(
      makeTarball({
        'package.json': manifest({
          exports: {
            '.': {
              backstage: '@backstage/BackendFeature',
              require: './dist/index.cjs.js',
              types: './dist/index.d.ts',
            },
            './package.json': './package.json',
          },
          configSchema: 'config.schema.json',
        }),
        'README.md': '# pkg',
        'config.schema.json': '{}',
        'dist/index.cjs.js': '',
        'dist/index.d.ts':
          "import { Config } from '@backstage/config';\nimport type { Readable } from 'node:stream';\nexport declare const a: Config;\n",
      }),
    );
    expect(tarballProblems(pkg)).toEqual([]);
  });

  it('names workspace ranges, missing files and declarations that import dev dependencies', () => {
    const pkg = readTarball(
      makeTarball({
        'package.json': manifest({
          dependencies: { '@x/other': 'workspace:^' },
          exports: { './alpha': { import: './dist/alpha.esm.js' } },
          configSchema: 'config.schema.json',
        }),
        'dist/index.cjs.js': '',
        'dist/index.d.ts':
          "import { Backend } from '@backstage/backend-defaults';\nexport declare const b: Backend;\n",
      }),
    );
    expect(tarballProblems(pkg)).toEqual([
      'dependencies.@x/other is workspace:^',
      'types points at dist/index.d.ts, which is not in the tarball'
        .replace('types', 'exports')
        .replace('dist/index.d.ts', './dist/alpha.esm.js'),
      'configSchema points at config.schema.json, which is not in the tarball',
      'no README.md',
      'dist/index.d.ts imports @backstage/backend-defaults, which is not a dependency',
    ]);
  });
});
