/*
 * An HTTP server for the emulator and its test doubles whose close() does not wait for clients: it stops
 * listening and destroys the open connections (keep-alive, upgraded sockets), and may be called again.
 */
import http from 'node:http';
import type { Socket } from 'node:net';

export interface ClosableServer {
  /** Listening, with no request handler yet. */
  server: http.Server;
  close(): Promise<void>;
}

export async function listenClosable(
  port: number,
  host: string,
): Promise<ClosableServer> {
  const server = http.createServer();
  const sockets = new Set<Socket>();
  server.on('connection', socket => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  let closed: Promise<void> | undefined;
  return {
    server,
    close() {
      if (!closed) {
        closed = new Promise<void>(resolve => {
          server.close(() => resolve());
          for (const socket of sockets) {
            socket.destroy();
          }
        });
      }
      return closed;
    },
  };
}
