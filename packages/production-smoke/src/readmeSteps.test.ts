import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readmeStep } from './readmeSteps';

const README = path.resolve(__dirname, '../../../README.md');

describe('readmeStep', () => {
  it("finds the root README's build, install and start steps", () => {
    expect(readmeStep(README, 'build')).toContain('yarn build:backend');
    expect(readmeStep(README, 'install')).toContain(
      'yarn workspaces focus --all --production',
    );
    expect(readmeStep(README, 'start')).toContain(
      'NODE_ENV=production node packages/backend --config app-config.yaml --config app-config.production.yaml',
    );
  });

  it('fails clearly when a marker is missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfaccess-readme-'));
    try {
      const file = path.join(dir, 'README.md');
      fs.writeFileSync(
        file,
        '<!-- production-smoke: build -->\n\n```sh\nyarn tsc\n```\n',
      );
      expect(readmeStep(file, 'build')).toBe('yarn tsc\n');
      expect(() => readmeStep(file, 'start')).toThrow(
        `${file} has no "<!-- production-smoke: start -->" marker followed by a sh block`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
