/* `yarn doctor:transcript`: regenerates the doctor transcript in docs/doctor.md. */
import { promises as fs } from 'node:fs';
import {
  generateTranscript,
  DOCTOR_PAGE,
  TRANSCRIPT_END,
  TRANSCRIPT_START,
} from './transcript';

const PORT = 7390;

(async () => {
  const transcript = await generateTranscript(PORT);
  const page = await fs.readFile(DOCTOR_PAGE, 'utf8');
  const start = page.indexOf(TRANSCRIPT_START);
  const end = page.indexOf(TRANSCRIPT_END);
  if (start < 0 || end < start) {
    throw new Error(
      `${DOCTOR_PAGE} has no ${TRANSCRIPT_START} … ${TRANSCRIPT_END}`,
    );
  }
  await fs.writeFile(
    DOCTOR_PAGE,
    `${page.slice(
      0,
      start + TRANSCRIPT_START.length,
    )}\n\n${transcript}\n${page.slice(end)}`,
  );
  process.stdout.write(`doctor transcript regenerated (${DOCTOR_PAGE})\n`);
})().catch(error => {
  process.stderr.write(`doctor:transcript: ${error?.message ?? error}\n`);
  process.exitCode = 1;
});
