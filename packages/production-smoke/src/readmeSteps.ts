/*
 * The smoke test runs the README's own commands, so the README cannot drift from what is tested: each step
 * is the shell block that follows a `<!-- production-smoke: <step> -->` marker in the root README.md
 * (an HTML comment, invisible on a rendered page).
 */
import fs from 'node:fs';

export type ReadmeStep = 'build' | 'install' | 'start';

/** The shell commands of one marked step; throws when the README has no such block. */
export function readmeStep(readme: string, step: ReadmeStep): string {
  const text = fs.readFileSync(readme, 'utf8');
  const marker = new RegExp(
    `<!-- production-smoke: ${step} -->\\s*\`\`\`(?:sh|bash)\\n([\\s\\S]*?)\`\`\``,
  );
  const match = marker.exec(text);
  if (!match) {
    throw new Error(
      `${readme} has no "<!-- production-smoke: ${step} -->" marker followed by a sh block`,
    );
  }
  return match[1];
}
