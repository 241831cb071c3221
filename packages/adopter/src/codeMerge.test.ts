import fs from 'node:fs';
import path from 'node:path';
import { mergeCode } from './codeMerge';
import { readmeSteps } from './readmeSteps';

// The files the READMEs change, as @backstage/create-app (the pinned version) writes them.
const template = (file: string) =>
  fs.readFileSync(
    path.join(
      path.dirname(require.resolve('@backstage/create-app/package.json')),
      'templates/default-app',
      file,
    ),
    'utf8',
  );

describe('mergeCode', () => {
  it("adds the backend module after the auth plugin in create-app's backend", () => {
    const out = mergeCode(
      template('packages/backend/src/index.ts'),
      "backend.add(import('@backstage/plugin-auth-backend'));\nbackend.add(import('@cfaccess/x'));\n",
      'index.ts',
    );
    expect(out).toContain(
      "backend.add(import('@backstage/plugin-auth-backend'));\nbackend.add(import('@cfaccess/x'));\n",
    );
    expect(out.match(/plugin-auth-backend'\)/g)).toHaveLength(1);
  });

  it("applies the module README's blocks for the backend to create-app's backend, in order", () => {
    const readme = fs.readFileSync(
      path.resolve(
        __dirname,
        '../../../plugins/auth-backend-module-cfaccess-provider/README.md',
      ),
      'utf8',
    );
    const blocks = readmeSteps(readme, 'module README').flatMap(step =>
      step.action === 'merge' && step.path === 'packages/backend/src/index.ts'
        ? [step.content]
        : [],
    );
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const out = blocks.reduce(
      (file, block) => mergeCode(file, block, 'index.ts'),
      template('packages/backend/src/index.ts'),
    );
    expect(out).toContain(
      "import { createBackend } from '@backstage/backend-defaults';\nimport { rootHttpRouterServiceFactory } from '@backstage/backend-defaults/rootHttpRouter';\nimport { withCloudflareAccessBoundary } from '@cfaccess/plugin-auth-backend-module-cfaccess-provider';\n",
    );
    expect(out).toMatch(
      /const backend = createBackend\(\);\nbackend\.add\(\s*rootHttpRouterServiceFactory\(\{ configure: withCloudflareAccessBoundary\(\) \}\),?\s*\);\n/,
    );
    expect(out).toContain(
      "backend.add(import('@backstage/plugin-auth-backend'));\nbackend.add(import('@cfaccess/plugin-auth-backend-module-cfaccess-provider'));\n",
    );
    const blocksTwice = blocks.reduce(
      (file, block) => mergeCode(file, block, 'index.ts'),
      out,
    );
    expect(blocksTwice).toBe(out);
  });

  it('puts a new statement after the declarations it uses, even without an anchor', () => {
    const out = mergeCode(
      template('packages/backend/src/index.ts'),
      "import { x } from 'y';\n\nbackend.add(x({ configure: c() }));\n",
      'index.ts',
    );
    expect(out).toContain(
      'const backend = createBackend();\nbackend.add(x({ configure: c() }));\n',
    );
    expect(out).toContain("import { x } from 'y';");
  });

  it('refuses a root HTTP router the file already configures differently', () => {
    expect(() =>
      mergeCode(
        'const backend = createBackend();\nbackend.add(rootHttpRouterServiceFactory({ configure: mine }));\n',
        'backend.add(rootHttpRouterServiceFactory({ configure: withCloudflareAccessBoundary() }));\n',
        'index.ts',
      ),
    ).toThrow(/"configure" is already set differently/);
  });

  it("adds an import and a feature to create-app's App.tsx, keeping its features", () => {
    const out = mergeCode(
      template('packages/app/src/App.tsx'),
      "import m from '@cfaccess/x/alpha';\n\nexport default createApp({\n  features: [\n    // ...\n    m,\n  ],\n});\n",
      'App.tsx',
    );
    expect(out).toContain("import m from '@cfaccess/x/alpha';");
    expect(out).toContain(
      'features: [catalogPlugin, navModule, homeModule, m]',
    );
  });

  it('is idempotent', () => {
    const block =
      "import { a } from 'x';\nstart();\nexport default createApp({ features: [a] });\n";
    const once = mergeCode(
      "import { b } from 'x';\nexport default createApp({ features: [] });\n",
      block,
      'a.ts',
    );
    expect(mergeCode(once, block, 'a.ts')).toBe(once);
    expect(once).toContain("import { b, a } from 'x';");
    expect(once).toContain('features: [a]');
  });

  it('adds a missing property and merges nested objects', () => {
    const out = mergeCode(
      'const app = createApp({ apis, components: { A: x } });\n',
      'const app = createApp({ components: { SignInPage: p => <P {...p} /> }, themes: [t] });\n',
      'App.tsx',
    );
    expect(out).toContain(
      'components: { A: x,\n  SignInPage: p => <P {...p} /> }',
    );
    expect(out).toContain('themes: [t]');
  });

  it('refuses a value the file already sets differently', () => {
    expect(() =>
      mergeCode(
        'createApp({ provider: "a" });\n',
        'createApp({ provider: "b" });\n',
        'a.ts',
      ),
    ).toThrow(/"provider" is already set differently/);
  });

  it('refuses a default import under another name', () => {
    expect(() =>
      mergeCode("import a from 'x';\n", "import b from 'x';\n", 'a.ts'),
    ).toThrow(/already imports 'x' differently/);
  });
});
