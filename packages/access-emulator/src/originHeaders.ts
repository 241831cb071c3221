/*
 * What the origin sees of a request that passed the edge: anything a client could send to impersonate
 * Access removed, then the assertion and Cloudflare's forwarding headers added.
 */
import type { IncomingMessage } from 'node:http';
import {
  ACCESS_TOKEN_HEADER,
  ASSERTION_HEADER,
  CLIENT_ID_HEADER,
  CLIENT_SECRET_HEADER,
  EMAIL_HEADER,
} from './defaults';
import type { EmulatorContext } from './context';
import { type EdgeDecision, headerValue } from './edge';

/** The Host header is left as the client sent it. */
export function applyOriginHeaders(
  req: IncomingMessage,
  decision: Extract<EdgeDecision, { kind: 'user' | 'service' }>,
  ctx: Pick<EmulatorContext, 'publicOrigin' | 'country' | 'devices'>,
) {
  const headers = req.headers;
  for (const name of [
    ACCESS_TOKEN_HEADER,
    ASSERTION_HEADER,
    CLIENT_ID_HEADER,
    CLIENT_SECRET_HEADER,
    EMAIL_HEADER,
    'cf-connecting-ip',
    'cf-ipcountry',
    'cf-visitor',
  ]) {
    delete headers[name];
  }
  // The access token was for Access, not the origin: it sees a browser's request ("no difference").
  if (decision.kind === 'user' && decision.viaOAuth) {
    delete headers.authorization;
  }
  headers[ASSERTION_HEADER] = decision.token;
  if (decision.kind === 'user' && decision.payload.email) {
    headers[EMAIL_HEADER] = decision.payload.email;
  }
  const ip = req.socket.remoteAddress ?? '';
  const protocol = new URL(ctx.publicOrigin).protocol.replace(/:$/, '');
  headers['cf-connecting-ip'] = ip;
  // Where the request comes from now: a person's current device country (it may have changed since the
  // token's `country` was set at login).
  headers['cf-ipcountry'] =
    decision.kind === 'user' && decision.payload.email
      ? ctx.devices.get(decision.payload.email).country
      : decision.payload.country ?? ctx.country;
  headers['cf-visitor'] = JSON.stringify({ scheme: protocol });
  const forwardedFor = headerValue(req, 'x-forwarded-for');
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${ip}` : ip;
  headers['x-forwarded-proto'] = protocol;
  if (headers.host) {
    headers['x-forwarded-host'] = headers.host;
  }
}
