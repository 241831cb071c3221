/*
 * The steps a README asks an adopter to take, read from the README itself: an HTML comment
 * `<!-- adopter-test: ACTION [ARGUMENT] -->` (invisible on the registry page and on GitHub) marks the code
 * block after it, so the README and the adopter test cannot drift apart.
 *
 *   run                 a shell block: each command, from the app's root directory
 *   start NAME          a shell block with one long-running command (NAME: emulator, app)
 *   merge PATH          a YAML block merged into PATH (created if missing), or a TS/TSX block whose imports,
 *                       statements and `features`-style array entries are added to PATH
 *   append PATH         a block appended to PATH
 *   include PACKAGE     no block: the steps of PACKAGE's README, at this point
 */
import { marked, type Token } from 'marked';

export type Step = { source: string } & (
  | { action: 'run'; command: string }
  | { action: 'start'; name: string; command: string }
  | { action: 'merge'; path: string; language: string; content: string }
  | { action: 'append'; path: string; content: string }
  | { action: 'include'; packageName: string }
);

const MARKER = /^<!--\s*adopter-test:\s*(\S+)(?:\s+(\S+))?\s*-->$/;
const TAKES_BLOCK: Record<string, 'name' | 'path' | 'none'> = {
  run: 'none',
  start: 'name',
  merge: 'path',
  append: 'path',
};

/** Shell commands of a block: comments and blank lines dropped, `\` continuations joined. */
export function shellCommands(block: string): string[] {
  return block
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map(line => line.trim())
    .filter(line => line && !line.startsWith('#'));
}

export function readmeSteps(markdown: string, readme: string): Step[] {
  const steps: Step[] = [];
  const tokens = marked.lexer(markdown);
  let line = 1;
  let pending: { action: string; argument?: string; at: string } | undefined;
  const fail = (at: string, message: string): never => {
    throw new Error(`${at}: ${message}`);
  };
  const visit = (token: Token) => {
    const at = `${readme}:${line}`;
    line += (token.raw.match(/\n/g) ?? []).length;
    if (token.type === 'space') {
      return;
    }
    const marker = token.type === 'html' ? MARKER.exec(token.raw.trim()) : null;
    if (token.raw.includes('<!-- adopter-test') && !marker) {
      fail(
        at,
        `an adopter-test marker must be a comment on a line of its own: ${token.raw.trim()}`,
      );
    }
    if (pending && token.type !== 'code') {
      fail(pending.at, `"${pending.action}" must be followed by a code block`);
    }
    if (marker) {
      const [, action, argument] = marker;
      if (action === 'include') {
        if (!argument) {
          fail(at, 'include needs a package name');
        }
        steps.push({ action, packageName: argument!, source: at });
        return;
      }
      const takes = TAKES_BLOCK[action];
      if (!takes) {
        fail(at, `unknown adopter-test action "${action}"`);
      }
      if ((takes === 'none') !== !argument) {
        fail(
          at,
          `"${action}" ${
            takes === 'none' ? 'takes no argument' : `needs a ${takes}`
          }`,
        );
      }
      pending = { action, argument, at };
      return;
    }
    if (pending && token.type === 'code') {
      const { action, argument } = pending;
      const source = pending.at;
      pending = undefined;
      const text = token.text;
      if (action === 'run') {
        for (const command of shellCommands(text)) {
          steps.push({ action, command, source });
        }
      } else if (action === 'start') {
        const commands = shellCommands(text);
        if (commands.length !== 1) {
          fail(
            source,
            `"start" needs exactly one command, got ${commands.length}`,
          );
        }
        steps.push({ action, name: argument!, command: commands[0], source });
      } else if (action === 'merge') {
        steps.push({
          action,
          path: argument!,
          language: (token.lang ?? '').split(/\s/)[0],
          content: text,
          source,
        });
      } else {
        steps.push({
          action: 'append',
          path: argument!,
          content: text,
          source,
        });
      }
    }
  };
  tokens.forEach(visit);
  if (pending) {
    fail(pending.at, `"${pending.action}" must be followed by a code block`);
  }
  return steps;
}
