import { promises as fs } from 'node:fs';
import {
  generateTranscript,
  normalizeTranscript,
  README,
  readmeTranscript,
} from './__testUtils__/transcript';

describe("the README's doctor transcript", () => {
  it('is what the command prints today (run yarn doctor:transcript to update it)', async () => {
    const readme = await fs.readFile(README, 'utf8');
    const fresh = await generateTranscript(0);
    const inReadme = normalizeTranscript(readmeTranscript(readme));
    expect(inReadme).toContain(
      '$ yarn cfaccess doctor --config app-config.yaml --config app-config.production.yaml',
    );
    expect(inReadme).toContain('problem: rejected (expired)');
    expect(inReadme).toContain('ok: accepted: a person, alice@example.com');
    expect(inReadme).toBe(normalizeTranscript(fresh.trim()));
  }, 60_000);
});
