/* `yarn doctor:transcript`: regenerates the README's doctor transcript. */
import { promises as fs } from 'node:fs';
import {
  generateTranscript,
  README,
  TRANSCRIPT_END,
  TRANSCRIPT_START,
} from './transcript';

const PORT = 7390;

(async () => {
  const transcript = await generateTranscript(PORT);
  const readme = await fs.readFile(README, 'utf8');
  const start = readme.indexOf(TRANSCRIPT_START);
  const end = readme.indexOf(TRANSCRIPT_END);
  if (start < 0 || end < start) {
    throw new Error(`${README} has no ${TRANSCRIPT_START} … ${TRANSCRIPT_END}`);
  }
  await fs.writeFile(
    README,
    `${readme.slice(
      0,
      start + TRANSCRIPT_START.length,
    )}\n\n${transcript}\n${readme.slice(end)}`,
  );
  process.stdout.write(`README transcript regenerated (${README})\n`);
})().catch(error => {
  process.stderr.write(`doctor:transcript: ${error?.message ?? error}\n`);
  process.exitCode = 1;
});
