/*
 * Follows a package README the way an adopter does, step by step (see readmeSteps.ts for the markers),
 * in the scaffolded app, with the README's ports moved into the test's range. `include` continues with
 * another package's README; a command the walk already ran is not run again; the first `start` waits for
 * the static checks, so type checks and builds never compete with running servers for the two cores.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Child, startChild } from '@cfaccess/harness';
import { mergeCode } from './codeMerge';
import { moveReadmePorts } from './ports';
import { readmeSteps, type Step } from './readmeSteps';
import { runCommand } from './shell';
import { mergeYaml } from './yamlMerge';
import type { Phases } from './phases';

export interface WalkContext {
  appDir: string;
  env: NodeJS.ProcessEnv;
  /** README text of each package, as shipped in its tarball. */
  readmes: Map<string, string>;
  phases: Phases;
  log: (name: string) => string;
  out: (line: string) => void;
  /** Runs once, before the first `start` step. */
  beforeFirstStart: () => Promise<void>;
  /** Resolves once the started process named by the step serves. */
  waitReady: (name: string, child: Child, command: string) => Promise<void>;
}

export interface WalkResult {
  steps: number;
  started: Child[];
}

function describe(step: Step): string {
  switch (step.action) {
    case 'run':
    case 'start':
      return `${step.action} \`${step.command}\``;
    case 'merge':
    case 'append':
      return `${step.action} ${step.path}`;
    default:
      return `include ${step.packageName}`;
  }
}

export async function walkReadme(
  packageName: string,
  ctx: WalkContext,
): Promise<WalkResult> {
  const ran = new Set<string>();
  const started: Child[] = [];
  const visiting: string[] = [];
  let steps = 0;
  let staticChecksDone = false;

  const apply = async (
    step: Step,
    include: (name: string) => Promise<void>,
  ) => {
    const file = 'path' in step ? path.join(ctx.appDir, step.path) : '';
    const existing = () =>
      fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    switch (step.action) {
      case 'run': {
        const command = moveReadmePorts(step.command);
        if (ran.has(command)) {
          ctx.out(`adopter: ${step.source}: already done: ${command}`);
          return;
        }
        ran.add(command);
        await ctx.phases.time(`readme: ${command}`, () =>
          runCommand(command, {
            cwd: ctx.appDir,
            env: ctx.env,
            logFile: ctx.log(command),
          }),
        );
        return;
      }
      case 'merge': {
        const content = moveReadmePorts(step.content);
        let merged: string;
        if (/^ya?ml$/.test(step.language)) {
          merged = mergeYaml(existing(), content);
        } else if (/^tsx?$/.test(step.language)) {
          const current = existing();
          if (current === undefined) {
            throw new Error(
              `${step.path} does not exist in the scaffolded app`,
            );
          }
          merged = mergeCode(current, content, step.path);
        } else {
          throw new Error(`cannot merge a "${step.language}" block`);
        }
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, merged);
        return;
      }
      case 'append': {
        const current = existing() ?? '';
        const separator = current === '' || current.endsWith('\n') ? '' : '\n';
        fs.writeFileSync(
          file,
          `${current}${separator}${moveReadmePorts(step.content)}\n`,
        );
        return;
      }
      case 'start': {
        const command = moveReadmePorts(step.command);
        await ctx.phases.time(`start ${step.name}: ${command}`, async () => {
          const child = startChild(step.name, 'bash', ['-c', command], {
            cwd: ctx.appDir,
            env: ctx.env,
            logFile: ctx.log(`start-${step.name}`),
          });
          started.push(child);
          await ctx.waitReady(step.name, child, command);
        });
        return;
      }
      case 'include':
        await include(step.packageName);
        return;
      default:
        throw new Error(`unknown step ${JSON.stringify(step)}`);
    }
  };

  const walk = async (name: string): Promise<void> => {
    if (visiting.includes(name)) {
      throw new Error(
        `README include loop: ${[...visiting, name].join(' -> ')}`,
      );
    }
    const markdown = ctx.readmes.get(name);
    if (markdown === undefined) {
      throw new Error(`no README for ${name} (is it a published package?)`);
    }
    visiting.push(name);
    for (const step of readmeSteps(markdown, `${name} README`)) {
      if (step.action === 'start' && !staticChecksDone) {
        staticChecksDone = true;
        await ctx.beforeFirstStart();
      }
      ctx.out(`adopter: ${step.source}: ${describe(step)}`);
      try {
        await apply(step, walk);
      } catch (error: any) {
        throw new Error(
          `the README step at ${step.source} (${describe(
            step,
          )}) cannot be applied as written: ${error.message}`,
        );
      }
      steps += 1;
    }
    visiting.pop();
  };

  await walk(packageName);
  return { steps, started };
}
