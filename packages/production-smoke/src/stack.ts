/*
 * The production stack of one run: PostgreSQL and Redis (as in the replicas suite), a CA and a certificate
 * made for the run, the Access emulator in front serving the team domain over HTTPS, and the built backend
 * started with the README's start step and the environment the README tells an operator to set.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  type AccessEmulator,
  createTlsCertificates,
  loadUsersFile,
  startAccessEmulator,
} from '@cfaccess/access-emulator';
import {
  type Child,
  onCleanup,
  startPostgres,
  startRedis,
} from '@cfaccess/harness';
import { BACKEND_URL, EDGE_URL, PORTS } from './ports';
import { startStep } from './shell';

export type Stack = {
  emulator: AccessEmulator;
  /** The run's CA (PEM), trusted by the backend through NODE_EXTRA_CA_CERTS. */
  caCertPem: string;
  /** The server certificate's SPKI hash, for Chromium. */
  spkiSha256: string;
  audience: string;
  serviceToken: { clientId: string; clientSecret: string };
  /** The environment the README documents, for this run. */
  productionEnv(port: number): NodeJS.ProcessEnv;
  backend: Child;
};

export type StackOptions = {
  repoRoot: string;
  appDir: string;
  runDir: string;
  startScript: string;
  log(line: string): void;
};

/** Waits for the backend's readiness check; fails early when the process exits. */
export async function waitReady(child: Child, url: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/.backstage/health/v1/readiness`, {
        signal: AbortSignal.timeout(2000),
      });
      if (res.status === 200) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (!child.isRunning() || Date.now() > deadline) {
      throw new Error(
        `the production backend did not become ready (log ${
          child.logFile
        }):\n${child.tail(40)}`,
      );
    }
    await new Promise(r => setTimeout(r, 250));
  }
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { runDir, log } = options;
  const [postgres, redis] = await Promise.all([
    startPostgres({ port: PORTS.postgres, runDir }),
    startRedis({ port: PORTS.redis, runDir }),
  ]);
  log(`PostgreSQL on ${postgres.port}, Redis on ${redis.port}`);

  const certificates = await createTlsCertificates({
    hosts: ['localhost', '127.0.0.1', '::1'],
  });
  const caFile = path.join(runDir, 'ca.pem');
  fs.writeFileSync(caFile, certificates.caCertPem);

  // An AUD tag and a service token of this run's own, as an operator copies them from the dashboard.
  const audience = crypto.randomBytes(32).toString('hex');
  const serviceToken = {
    clientId: `${crypto.randomBytes(16).toString('hex')}.access`,
    clientSecret: crypto.randomBytes(32).toString('hex'),
  };
  const { users } = await loadUsersFile(
    path.join(options.repoRoot, 'examples/access-users.yaml'),
  );
  const emulator = await startAccessEmulator({
    port: PORTS.edge,
    tls: { cert: certificates.certPem, key: certificates.keyPem },
    publicUrl: EDGE_URL,
    // The backend serves the built app too: one origin behind the edge, as behind a Cloudflare Tunnel.
    frontendUrl: BACKEND_URL,
    backendUrl: BACKEND_URL,
    audience,
    users,
    serviceTokens: [{ name: 'smoke', ...serviceToken }],
  });
  onCleanup('emulator', () => emulator.close());
  log(`Access emulator (the team domain) on ${emulator.url}`);

  const productionEnv = (port: number): NodeJS.ProcessEnv => ({
    ...process.env,
    // What the README tells an operator to set.
    NODE_ENV: 'production',
    APP_BASE_URL: EDGE_URL,
    CF_ACCESS_TEAM_DOMAIN: EDGE_URL,
    CF_ACCESS_AUD: audience,
    POSTGRES_HOST: '127.0.0.1',
    POSTGRES_PORT: String(postgres.port),
    POSTGRES_USER: postgres.user,
    POSTGRES_PASSWORD: 'unused-trust-auth',
    REDIS_URL: redis.url,
    APP_CONFIG_auth_providers_cfaccess_serviceTokens: JSON.stringify([
      { token: serviceToken.clientId, subject: 'user:default/ci-bot' },
    ]),
    // Only because this team domain is on loopback, with a CA made for the run.
    APP_CONFIG_auth_providers_cfaccess_dangerouslyAllowLoopbackTeamDomain:
      'true',
    NODE_EXTRA_CA_CERTS: caFile,
    APP_DIR: options.appDir,
    APP_CONFIG_backend_listen_port: String(port),
    APP_CONFIG_backend_listen_host: '127.0.0.1',
  });

  const backend = startStep('backend', options.startScript, {
    cwd: options.appDir,
    env: productionEnv(PORTS.backend),
    runDir,
  });
  return {
    emulator,
    caCertPem: certificates.caCertPem,
    spkiSha256: certificates.spkiSha256,
    audience,
    serviceToken,
    productionEnv,
    backend,
  };
}
