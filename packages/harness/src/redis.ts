/*
 * A throwaway Redis from the Debian package (redis-server): loopback only, one port, no persistence.
 */
import net from 'node:net';
import path from 'node:path';
import { type Child, startChild } from './child';

export interface Redis {
  port: number;
  url: string;
  child: Child;
}

/** Sends PING; resolves true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', data => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startRedis(options: {
  port: number;
  runDir: string;
}): Promise<Redis> {
  const child = startChild(
    'redis',
    'redis-server',
    [
      '--port',
      String(options.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      options.runDir,
    ],
    { logFile: path.join(options.runDir, 'redis.log') },
  );
  const deadline = Date.now() + 15000;
  while (!(await ping(options.port))) {
    if (!child.isRunning() || Date.now() > deadline) {
      throw new Error(
        `redis-server did not start (apt-get install redis-server):\n${child.tail()}`,
      );
    }
    await new Promise(r => setTimeout(r, 100));
  }
  return {
    port: options.port,
    url: `redis://127.0.0.1:${options.port}`,
    child,
  };
}
