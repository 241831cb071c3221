/*
 * What a packed tarball holds, and whether it is what a registry user needs: no workspace: ranges, every
 * file its manifest points at (main, types, exports, typesVersions, bin, configSchema) present, dist/ and
 * the README shipped.
 */
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';

export interface PackedPackage {
  name: string;
  version: string;
  file: string;
  manifest: Record<string, any>;
  /** Paths inside the package, without the leading `package/`. */
  files: string[];
}

export function readTarball(file: string): PackedPackage {
  const files = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(entry => entry.replace(/^package\//, ''));
  const manifest = JSON.parse(
    execFileSync('tar', ['-xzOf', file, 'package/package.json'], {
      encoding: 'utf8',
    }),
  );
  return {
    name: manifest.name,
    version: manifest.version,
    file,
    manifest,
    files,
  };
}

/** The file a tarball's README has, if any. */
export function readTarballFile(file: string, inside: string): string {
  return execFileSync('tar', ['-xzOf', file, `package/${inside}`], {
    encoding: 'utf8',
  });
}

const DEPENDENCY_FIELDS = [
  'dependencies',
  'devDependencies',
  'peerDependencies',
  'optionalDependencies',
];

function targets(value: unknown): string[] {
  if (typeof value === 'string') {
    return [value];
  }
  if (Array.isArray(value)) {
    return value.flatMap(targets);
  }
  if (value && typeof value === 'object') {
    // The `backstage` condition of an export names a feature type, not a file.
    return Object.entries(value)
      .filter(([key]) => key !== 'backstage')
      .flatMap(([, v]) => targets(v));
  }
  return [];
}

/** Problems with a packed package; empty when it is fine. */
export function tarballProblems(pkg: PackedPackage): string[] {
  const problems: string[] = [];
  const { manifest } = pkg;
  for (const field of DEPENDENCY_FIELDS) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) {
        problems.push(`${field}.${dep} is ${range}`);
      }
    }
  }
  const has = new Set(pkg.files);
  const pointers: [string, unknown][] = [
    ['main', manifest.main],
    ['module', manifest.module],
    ['types', manifest.types],
    ['exports', manifest.exports],
    ['typesVersions', manifest.typesVersions],
    ['bin', manifest.bin],
    ['configSchema', manifest.configSchema],
  ];
  for (const [field, value] of pointers) {
    for (const target of targets(value)) {
      if (target.includes('*')) {
        continue;
      }
      const file = target.replace(/^\.\//, '');
      if (file !== 'package.json' && !has.has(file)) {
        problems.push(
          `${field} points at ${target}, which is not in the tarball`,
        );
      }
    }
  }
  if (!pkg.files.some(f => f.startsWith('dist/'))) {
    problems.push('no dist/');
  }
  if (!has.has('README.md')) {
    problems.push('no README.md');
  }
  problems.push(...declarationImportProblems(pkg));
  if (typeof manifest.main === 'string' && manifest.main.startsWith('src/')) {
    problems.push(`main is ${manifest.main} (publishConfig not applied)`);
  }
  return problems;
}

/** The package a module specifier names (`@scope/name/sub` -> `@scope/name`), or undefined if relative. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    return undefined;
  }
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Declarations may only import what an installing app gets: the package's dependencies and peer
 * dependencies (and their @types), or Node's own modules. A type from a devDependency is `any` for
 * consumers with skipLibCheck and an error for those without.
 */
export function declarationImportProblems(pkg: PackedPackage): string[] {
  const { manifest } = pkg;
  const allowed = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const isAllowed = (name: string) =>
    allowed.has(name) ||
    (name.startsWith('@types/') && allowed.has(name.slice('@types/'.length))) ||
    name.startsWith('node:') ||
    builtinModules.includes(name);
  const problems = new Set<string>();
  for (const file of pkg.files.filter(f => f.endsWith('.d.ts'))) {
    const text = readTarballFile(pkg.file, file);
    for (const [, specifier] of text.matchAll(
      /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g,
    )) {
      const name = packageOf(specifier);
      if (name && !isAllowed(name)) {
        problems.add(`${file} imports ${specifier}, which is not a dependency`);
      }
    }
  }
  return [...problems];
}
