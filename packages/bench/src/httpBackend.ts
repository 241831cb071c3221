/*
 * The backend for benchmark 4, run as a child process (so that autocannon in the parent does not share
 * its event loop): a real Backstage backend (createBackend from @backstage/backend-defaults) with the
 * auth backend, one Cloudflare Access module (ours or upstream's, chosen by the parent), the catalog
 * backend on in-memory better-sqlite3 with User entities from a file, and the Access double (msw) in this
 * process. The parent talks to it over IPC: `start`, `counts`, `reset`, `cpu`.
 */
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { createBackend } from '@backstage/backend-defaults';
import { ConfigReader } from '@backstage/config';
import { JWK } from 'jose';
import { AUD, startAccessDouble, TEAM } from './fixtures';

export type BackendStartMessage = {
  type: 'start';
  module: 'cfaccess' | 'upstream';
  port: number;
  jwks: { keys: JWK[] };
  usersFile: string;
  accessLatencyMs: number;
};

type Message =
  | BackendStartMessage
  | { type: 'counts' }
  | { type: 'reset' }
  | { type: 'cpu' };

let access: ReturnType<typeof startAccessDouble> | undefined;

function send(message: unknown) {
  process.send?.(message);
}

async function start(msg: BackendStartMessage) {
  access = startAccessDouble(msg.jwks);
  access.latencyMs = msg.accessLatencyMs;
  const config = new ConfigReader({
    app: { baseUrl: 'http://localhost:3000' },
    backend: {
      baseUrl: `http://127.0.0.1:${msg.port}`,
      listen: { port: msg.port, host: '127.0.0.1' },
      database: { client: 'better-sqlite3', connection: ':memory:' },
    },
    auth: {
      providers: {
        cfaccess: {
          teamName: TEAM,
          audience: AUD,
          signIn: {
            // Both modules: the catalog User whose spec.profile.email is the token's email.
            resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
          },
        },
      },
    },
    catalog: {
      rules: [{ allow: ['User', 'Group', 'Location'] }],
      locations: [{ type: 'file', target: msg.usersFile }],
    },
  });

  const backend = createBackend();
  backend.add(
    createServiceFactory({
      service: coreServices.rootConfig,
      deps: {},
      factory: () => config,
    }),
  );
  backend.add(import('@backstage/plugin-auth-backend'));
  if (msg.module === 'cfaccess') {
    backend.add(
      import('@cfaccess/plugin-auth-backend-module-cfaccess-provider'),
    );
  } else {
    backend.add(
      // eslint-disable-next-line @backstage/no-undeclared-imports
      import(
        '@backstage/plugin-auth-backend-module-cloudflare-access-provider'
      ),
    );
  }
  backend.add(import('@backstage/plugin-catalog-backend'));
  await backend.start();
  send({ type: 'started' });
}

process.on('message', (msg: Message) => {
  if (msg.type === 'start') {
    start(msg).catch(error => {
      send({ type: 'error', error: String(error?.stack ?? error) });
      process.exit(1);
    });
  } else if (msg.type === 'counts') {
    send({ type: 'counts', counts: { ...access?.counts } });
  } else if (msg.type === 'cpu') {
    // CPU time of this backend process, user + system, in µs.
    const { user, system } = process.cpuUsage();
    send({ type: 'cpu', micros: user + system });
  } else if (msg.type === 'reset') {
    access?.reset();
    send({ type: 'reset' });
  }
});
process.on('disconnect', () => process.exit(0));
