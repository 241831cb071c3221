/*
 * WebSocket upgrades: the same edge decision as HTTP requests (edge.ts), answered on the raw socket.
 * Access's own endpoints take no upgrades.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { EmulatorContext } from './context';
import { decideEdge } from './edge';
import { applyOriginHeaders } from './originHeaders';
import type { OriginProxy } from './proxy';

function answer(
  socket: Socket,
  status: number,
  headers: Record<string, string> = {},
) {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.end(
    `HTTP/1.1 ${status} ${
      http.STATUS_CODES[status]
    }\r\nConnection: close\r\nContent-Length: 0\r\n${lines.join('')}\r\n`,
  );
}

export function createUpgradeHandler(ctx: EmulatorContext, proxy: OriginProxy) {
  return async (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    try {
      const decision = await decideEdge(req, ctx);
      let status = 101;
      if (decision.kind === 'refused') {
        status = decision.refusal.status;
        answer(socket, status, decision.refusal.headers);
      } else if (decision.kind === 'access' || decision.kind === 'admin') {
        status = 404;
        answer(socket, status);
      } else {
        applyOriginHeaders(req, decision, ctx);
        proxy.upgrade(req, socket, head);
      }
      ctx.log?.(`UPGRADE ${path} ${status} ${decision.caller}`);
    } catch {
      socket.destroy();
    }
  };
}
