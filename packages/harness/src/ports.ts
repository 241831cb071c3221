/*
 * Port checks: the suites use fixed ports (so config and logs are predictable); fail early and clearly
 * when one is taken.
 */
import net from 'node:net';

function isFree(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function assertPortsFree(ports: Record<string, number>) {
  const taken: string[] = [];
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isFree(port))) {
      taken.push(`${name} (${port})`);
    }
  }
  if (taken.length > 0) {
    throw new Error(
      `Ports in use: ${taken.join(
        ', ',
      )}. Stop what uses them or pass --base-port.`,
    );
  }
}

/** Resolves once something accepts TCP connections on the port, or rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>(resolve => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`Nothing listens on port ${port} after ${timeoutMs} ms`);
    }
    await new Promise(r => setTimeout(r, 100));
  }
}
