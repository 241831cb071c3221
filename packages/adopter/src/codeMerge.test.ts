import fs from 'node:fs';
import path from 'node:path';
import { mergeCode } from './codeMerge';

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
