/*
 * An HTTP(S) server for the emulator and its test doubles whose close() does not wait for clients: it
 * stops listening and destroys the open connections (keep-alive, upgraded sockets), and may be called
 * again.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext } from 'node:tls';

/** A certificate (chain) and its private key, PEM encoded. */
export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface ClosableServer {
  /** Listening, with no request handler yet. */
  server: http.Server;
  close(): Promise<void>;
}

function createServer(tls: TlsOptions | undefined): http.Server {
  if (!tls) {
    return http.createServer();
  }
  try {
    // Fails early, with the reason, on a PEM that does not parse or a key that does not match.
    createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (error: any) {
    throw new Error(
      `tls: cannot use the certificate and key (${error.message})`,
    );
  }
  return https.createServer({ cert: tls.cert, key: tls.key });
}

export async function listenClosable(
  port: number,
  host: string,
  tls?: TlsOptions,
): Promise<ClosableServer> {
  const server = createServer(tls);
  const sockets = new Set<Socket>();
  server.on('connection', socket => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(port, host, () => {
      server.off('error', reject);
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
