/*
 * The module's documentation links: README.md (the entry point) and every page under docs/. Each
 * relative link, and each absolute link into this repository's main branch (the README's links to
 * the pages are absolute, so that they work on the registry page), must name a file that exists,
 * and its `#anchor` must name a heading of that file, with GitHub's slugs.
 */
import fs from 'node:fs';
import path from 'node:path';

const packageDir = path.resolve(__dirname, '../..');
const repoRoot = path.resolve(packageDir, '../..');
const repositoryUrl: string = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'),
).repository.url;
const docsDir = path.join(packageDir, 'docs');
const README = path.join(packageDir, 'README.md');
const pages = fs
  .readdirSync(docsDir)
  .filter(name => name.endsWith('.md'))
  .sort()
  .map(name => path.join(docsDir, name));

/** Markdown without fenced code blocks, inline code and HTML comments; line count kept. */
function prose(markdown: string): string {
  const keepLines = (text: string) => text.replace(/[^\n]/g, '');
  return markdown
    .replace(
      /^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?^ {0,3}\1[^\n]*$/gm,
      keepLines,
    )
    .replace(/<!--[\s\S]*?-->/g, keepLines)
    .replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, keepLines);
}

/** GitHub's heading slug (as github-slugger): lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
function githubSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text
    .replace(/<[^>]+>/g, '') // HTML tags
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings; a repeated slug gets `-1`, `-2`, … as on GitHub. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  // Code spans keep their text in a heading's slug: only fences are dropped here.
  const withoutFences = markdown.replace(
    /^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?^ {0,3}\1[^\n]*$/gm,
    '',
  );
  for (const line of withoutFences.split('\n')) {
    const m = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (!m) {
      continue;
    }
    const slug = githubSlug(m[1]);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Every link target of a Markdown file (inline links, images, reference definitions), with its line. */
function linkTargets(markdown: string): Array<{ href: string; line: number }> {
  const text = prose(markdown);
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  const found: Array<{ href: string; line: number }> = [];
  const inline =
    /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^\s)>]+)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
  for (const m of text.matchAll(inline)) {
    found.push({ href: m[1], line: lineAt(m.index!) });
  }
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
    found.push({ href: m[1], line: lineAt(m.index!) });
  }
  return found;
}

/** The problems with the links of one file (empty when every link works). */
function linkProblems(
  file: string,
  markdown: string,
  readFile: (target: string) => string | undefined = target =>
    fs.existsSync(target) && fs.statSync(target).isFile()
      ? fs.readFileSync(target, 'utf8')
      : undefined,
): string[] {
  const problems: string[] = [];
  const inRepository = `${repositoryUrl}/blob/main/`;
  for (const { href, line } of linkTargets(markdown)) {
    const where = `${path.relative(repoRoot, file)}:${line}: ${href}`;
    let target: string;
    if (href.startsWith(inRepository)) {
      target = path.join(repoRoot, href.slice(inRepository.length));
    } else if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) {
      continue; // another site, mailto: and the like
    } else if (href.startsWith('#')) {
      target = `${file}${href}`;
    } else {
      target = path.resolve(path.dirname(file), href);
    }
    const hashAt = target.indexOf('#');
    const anchor =
      hashAt < 0 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
    const targetFile = (hashAt < 0 ? target : target.slice(0, hashAt)).replace(
      /\?.*$/,
      '',
    );
    if (path.resolve(targetFile) !== path.resolve(file)) {
      const exists =
        fs.existsSync(targetFile) &&
        (fs.statSync(targetFile).isDirectory() ||
          readFile(targetFile) !== undefined);
      if (!exists) {
        problems.push(
          `${where}: ${path.relative(repoRoot, targetFile)} does not exist`,
        );
        continue;
      }
    }
    if (anchor === undefined || !targetFile.endsWith('.md')) {
      continue;
    }
    const targetText =
      path.resolve(targetFile) === path.resolve(file)
        ? markdown
        : readFile(targetFile)!;
    if (!headingAnchors(targetText).has(anchor)) {
      problems.push(
        `${where}: no heading of ${path.relative(
          repoRoot,
          targetFile,
        )} has the anchor #${anchor}`,
      );
    }
  }
  return problems;
}

describe('the documentation links', () => {
  it('has pages under docs/', () => {
    expect(pages.map(page => path.basename(page))).toEqual(
      expect.arrayContaining([
        'configuration.md',
        'doctor.md',
        'troubleshooting.md',
      ]),
    );
  });

  it.each([README, ...pages].map(file => [path.relative(packageDir, file)]))(
    '%s: every relative link names a file, and every #anchor a heading of it',
    relative => {
      const file = path.join(packageDir, relative);
      expect(linkProblems(file, fs.readFileSync(file, 'utf8'))).toEqual([]);
    },
  );

  it('the README links every page, and every page links back to the README', () => {
    const readme = fs.readFileSync(README, 'utf8');
    const linkedFromReadme = new Set(
      linkTargets(readme).map(({ href }) =>
        href.replace(/#.*$/, '').split('/').slice(-2).join('/'),
      ),
    );
    for (const page of pages) {
      expect(linkedFromReadme).toContain(`docs/${path.basename(page)}`);
      const back = linkTargets(fs.readFileSync(page, 'utf8')).map(
        ({ href }) => href,
      );
      expect(back).toContain('../README.md');
    }
  });

  describe('the checker itself', () => {
    const file = path.join(docsDir, 'example.md');

    it('slugs headings as GitHub does', () => {
      expect(githubSlug('Finding the team name and the AUD tag')).toBe(
        'finding-the-team-name-and-the-aud-tag',
      );
      expect(githubSlug('Reason codes: `user_not_found` & more!')).toBe(
        'reason-codes-user_not_found--more',
      );
      expect(githubSlug('[Sign-in](x.md) resolvers')).toBe('sign-in-resolvers');
      expect([
        ...headingAnchors(
          '# A\n\n## Notes\n\n```sh\n# not a heading\n```\n\n### Notes\n',
        ),
      ]).toEqual(['a', 'notes', 'notes-1']);
    });

    it('reports a missing file, a missing anchor and a missing anchor of this file', () => {
      const markdown = [
        '# Example',
        '',
        'See [a](troubleshooting.md#reason-codes), [b](nowhere.md),',
        '[c](troubleshooting.md#no-such-heading) and [d](#no-such-heading),',
        'but not `[e](nowhere.md)` in code, nor [f](https://example.com/x#y).',
        '',
        '```md',
        '[g](nowhere.md)',
        '```',
        '',
        `[h](${repositoryUrl}/blob/main/plugins/auth-backend-module-cfaccess-provider/docs/missing.md)`,
      ].join('\n');
      expect(linkProblems(file, markdown)).toEqual([
        expect.stringMatching(/example\.md:3: nowhere\.md: .* does not exist$/),
        expect.stringMatching(
          /example\.md:4: troubleshooting\.md#no-such-heading: no heading .* #no-such-heading$/,
        ),
        expect.stringMatching(
          /example\.md:4: #no-such-heading: no heading .* #no-such-heading$/,
        ),
        expect.stringMatching(
          /example\.md:11: .*docs\/missing\.md does not exist$/,
        ),
      ]);
    });
  });
});
