import fs from 'node:fs';
import path from 'node:path';
import { readmeSteps, shellCommands } from './readmeSteps';

const repoRoot = path.resolve(__dirname, '../../..');
const readme = (dir: string) =>
  fs.readFileSync(path.join(repoRoot, dir, 'README.md'), 'utf8');

describe('readmeSteps', () => {
  it('reads the module README as a walk that includes the sign-in page README and starts both processes', () => {
    const steps = readmeSteps(
      readme('plugins/auth-backend-module-cfaccess-provider'),
      'module README',
    );
    const actions = steps.map(s => s.action);
    expect(actions).toContain('include');
    expect(steps.find(s => s.action === 'include')).toMatchObject({
      packageName: '@cfaccess/plugin-cfaccess-react',
    });
    expect(
      steps.filter(s => s.action === 'start').map(s => (s as any).name),
    ).toEqual(['emulator', 'app']);
    expect(steps[0]).toMatchObject({
      action: 'run',
      command:
        'yarn --cwd packages/backend add @cfaccess/plugin-auth-backend-module-cfaccess-provider',
    });
    for (const step of steps.filter(s => s.action === 'merge')) {
      expect((step as any).language).toMatch(/^(ya?ml|tsx?)$/);
    }
  });

  it('reads the sign-in page README: install, then merge into App.tsx', () => {
    const steps = readmeSteps(readme('plugins/cfaccess-react'), 'react README');
    expect(
      steps.map(s => `${s.action} ${(s as any).path ?? (s as any).command}`),
    ).toEqual([
      'run yarn --cwd packages/app add @cfaccess/plugin-cfaccess-react',
      'merge packages/app/src/App.tsx',
    ]);
  });

  it('names the line of the marker it read', () => {
    const [step] = readmeSteps(
      '# T\n\ntext\n\n<!-- adopter-test: run -->\n\n```sh\nyarn x\n```\n',
      'R',
    );
    expect(step).toEqual({ action: 'run', command: 'yarn x', source: 'R:5' });
  });

  it.each([
    [
      '<!-- adopter-test: paint x -->\n\n```sh\nx\n```\n',
      /unknown adopter-test action "paint"/,
    ],
    [
      '<!-- adopter-test: merge -->\n\n```yaml\na: 1\n```\n',
      /"merge" needs a path/,
    ],
    [
      '<!-- adopter-test: run extra -->\n\n```sh\nx\n```\n',
      /"run" takes no argument/,
    ],
    [
      '<!-- adopter-test: run -->\n\nsome text\n',
      /must be followed by a code block/,
    ],
    ['<!-- adopter-test: run -->\n', /must be followed by a code block/],
    [
      'text <!-- adopter-test: run --> more\n\n```sh\nx\n```\n',
      /must be a comment on a line of its own/,
    ],
    [
      '<!-- adopter-test: start app -->\n\n```sh\na\nb\n```\n',
      /exactly one command, got 2/,
    ],
    ['<!-- adopter-test: include -->\n', /include needs a package name/],
  ])('refuses a broken marker: %j', (markdown, message) => {
    expect(() => readmeSteps(markdown, 'R')).toThrow(message);
  });
});

describe('shellCommands', () => {
  it('drops comments and blank lines and joins continuations', () => {
    expect(shellCommands('# setup\nyarn a \\\n  --flag\n\nyarn b\n')).toEqual([
      'yarn a --flag',
      'yarn b',
    ]);
  });
});
