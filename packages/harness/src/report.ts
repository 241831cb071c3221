/*
 * PASS/FAIL lines with numbers, and the exit code they add up to.
 */
export class Report {
  private readonly results: { name: string; ok: boolean; detail: string }[] =
    [];

  constructor(private readonly out: (line: string) => void) {}

  check(name: string, ok: boolean, detail: string): boolean {
    this.results.push({ name, ok, detail });
    this.out(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
    return ok;
  }

  get failed(): number {
    return this.results.filter(r => !r.ok).length;
  }

  summary(suite: string): number {
    const total = this.results.length;
    this.out(
      `${suite}: ${total - this.failed}/${total} checks passed${
        this.failed ? `, ${this.failed} FAILED` : ''
      }`,
    );
    return this.failed === 0 ? 0 : 1;
  }

  toJSON() {
    return this.results;
  }
}
