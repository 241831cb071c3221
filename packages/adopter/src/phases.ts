/*
 * How long each phase took, printed as it ends and summed up at the end: the adopter test's cost in CI.
 */
export class Phases {
  private readonly done: { name: string; seconds: number }[] = [];

  constructor(private readonly out: (line: string) => void) {}

  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      const seconds = (Date.now() - started) / 1000;
      this.done.push({ name, seconds });
      this.out(`adopter: ${name} took ${seconds.toFixed(1)}s`);
    }
  }

  summary(): string[] {
    const total = this.done.reduce((sum, p) => sum + p.seconds, 0);
    return [
      ...this.done.map(
        p => `  ${p.seconds.toFixed(1).padStart(6)}s  ${p.name}`,
      ),
      `  ${total.toFixed(1).padStart(6)}s  total`,
    ];
  }
}
