import { promises as fs } from 'node:fs';
import {
  generateTranscript,
  normalizeTranscript,
  DOCTOR_PAGE,
  pageTranscript,
} from './__testUtils__/transcript';

describe("the doctor page's transcript (docs/doctor.md)", () => {
  it('is what the command prints today (run yarn doctor:transcript to update it)', async () => {
    const page = await fs.readFile(DOCTOR_PAGE, 'utf8');
    const fresh = await generateTranscript(0);
    const inPage = normalizeTranscript(pageTranscript(page));
    expect(inPage).toContain(
      '$ yarn cfaccess doctor --config app-config.yaml --config app-config.production.yaml',
    );
    expect(inPage).toContain('problem: rejected (expired)');
    expect(inPage).toContain('ok: accepted: a person, alice@example.com');
    expect(inPage).toBe(normalizeTranscript(fresh.trim()));
  }, 60_000);
});
