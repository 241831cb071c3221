/*
 * Teardown for the suites: every started process registers how to stop it; the stops run in reverse order
 * at the end, on failure, and on SIGINT/SIGTERM, so no database or backend outlives a run.
 */
type Stop = () => Promise<void> | void;

const stops: { name: string; stop: Stop }[] = [];
let installed = false;
let running: Promise<void> | undefined;

/** Registers a stop; returns a function that runs it now and unregisters it. */
export function onCleanup(name: string, stop: Stop): () => Promise<void> {
  const entry = { name, stop };
  stops.push(entry);
  installSignalHandlers();
  return async () => {
    const index = stops.indexOf(entry);
    if (index >= 0) {
      stops.splice(index, 1);
      await entry.stop();
    }
  };
}

/** Runs every registered stop, newest first; errors are reported, not thrown. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (stops.length > 0) {
      const { name, stop } = stops.pop()!;
      try {
        await stop();
      } catch (error) {
        process.stderr.write(`cleanup: stopping ${name} failed: ${error}\n`);
      }
    }
  })().finally(() => {
    running = undefined;
  });
  return running;
}

function installSignalHandlers() {
  if (installed) {
    return;
  }
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nReceived ${signal}, stopping everything\n`);
      cleanupAll().finally(() => process.exit(130));
    });
  }
}

/** Runs a suite's main function: cleanup always, exit code 1 on a thrown error. */
export function runMain(main: () => Promise<number>): void {
  main()
    .catch(error => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      return 1;
    })
    .then(async code => {
      process.exitCode = code;
      await cleanupAll();
      process.exit(code);
    });
}
