/*
 * What the registry page of each published package shows: a repository (the root's, with the package's
 * directory) and README links that work there, i.e. absolute links into the repository that name files
 * which exist, and no relative links out of the package.
 */
import fs from 'node:fs';
import path from 'node:path';
import { marked } from 'marked';

const repoRoot = path.resolve(__dirname, '../../..');
const rootRepository = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'),
).repository;
const PUBLISHED = [
  'plugins/auth-backend-module-cfaccess-provider',
  'plugins/cfaccess-react',
  'packages/access-emulator',
];

function links(markdown: string): string[] {
  const found: string[] = [];
  marked.walkTokens(marked.lexer(markdown), token => {
    if (token.type === 'link' || token.type === 'image') {
      found.push(token.href);
    }
  });
  return found;
}

describe('published package metadata', () => {
  it('has one canonical repository URL, in the root package.json', () => {
    expect(rootRepository).toEqual({
      type: 'git',
      url: expect.stringMatching(/^https:\/\/github\.com\/[\w-]+\/[\w.-]+$/),
    });
  });

  it.each(PUBLISHED)('%s names the repository and its directory', dir => {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(repoRoot, dir, 'package.json'), 'utf8'),
    );
    expect(manifest.private).toBeUndefined();
    expect(manifest.repository).toEqual({ ...rootRepository, directory: dir });
  });

  it.each(PUBLISHED)('%s README links work on the registry page', dir => {
    const problems: string[] = [];
    for (const href of links(
      fs.readFileSync(path.join(repoRoot, dir, 'README.md'), 'utf8'),
    )) {
      const otherScheme =
        /^[a-z][a-z0-9+.-]*:/i.test(href) && !/^https?:/.test(href);
      const elsewhere =
        /^https?:\/\//.test(href) && !href.startsWith(rootRepository.url);
      if (href.startsWith('#') || otherScheme || elsewhere) {
        continue;
      }
      const inRepo = /^[^#]+\/(?:blob|raw)\/main\/([^#?]+)/.exec(href);
      if (inRepo) {
        if (!fs.existsSync(path.join(repoRoot, inRepo[1]))) {
          problems.push(`${href}: ${inRepo[1]} does not exist`);
        }
      } else if (!/^https?:/.test(href)) {
        problems.push(
          `${href}: relative links do not work on the registry page`,
        );
      } else {
        problems.push(
          `${href}: links into the repository go through /blob/main/ or /raw/main/`,
        );
      }
    }
    expect(problems).toEqual([]);
  });
});
