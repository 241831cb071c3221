/*
 * A WebSocket-style upgrade request (HTTP or HTTPS) that reports what the emulator answered: the 101 and
 * the first bytes from the origin, or the refusal's status and Location.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

export interface UpgradeResult {
  status: number;
  data?: string;
  location?: string;
}

export function requestUpgrade(
  url: string | URL,
  headers: Record<string, string>,
  options: { ca?: string } = {},
): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? https.request : http.request;
    const req = send(target, {
      ca: options.ca,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      const finish = (data: Buffer) => {
        resolve({ status: res.statusCode!, data: data.toString() });
        socket.destroy();
      };
      if (head.length > 0) {
        finish(head);
      } else {
        socket.once('data', finish);
      }
    });
    req.on('response', res => {
      resolve({ status: res.statusCode!, location: res.headers.location });
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
}
