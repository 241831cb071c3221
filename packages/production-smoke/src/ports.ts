/** The smoke test's fixed ports: 7400-7499, PostgreSQL 5434, Redis 6381 (no other suite uses them). */
export const PORTS = {
  /** The Access emulator: the team domain and the edge browsers use, over HTTPS. */
  edge: 7400,
  /** The production backend (the built app served by app-backend). */
  backend: 7401,
  /** Backends that must refuse to start. */
  missingVariable: 7402,
  httpTeamDomain: 7403,
  postgres: 5434,
  redis: 6381,
} as const;

export const EDGE_URL = `https://localhost:${PORTS.edge}`;
export const BACKEND_URL = `http://127.0.0.1:${PORTS.backend}`;
