/*
 * The adopter test's fixed ports (its range is 7500-7599), and how the ports the READMEs use map onto them:
 * the READMEs are written for an adopter's machine (emulator on 7000, backend on 7007, dev server on 3000);
 * the test applies them as written with only those numbers moved into its range.
 */
export const PORTS = {
  emulator: 7500,
  backend: 7507,
  frontend: 7530,
  registry: 7510,
} as const;

const README_PORTS: Record<string, number> = {
  '7000': PORTS.emulator,
  '7007': PORTS.backend,
  '3000': PORTS.frontend,
};

/** The README's text with its ports moved into the test's range (whole numbers only, never parts of a tag). */
export function moveReadmePorts(text: string): string {
  return text.replace(/(?<![\w.-])(7000|7007|3000)(?![\w.-])/g, port =>
    String(README_PORTS[port]),
  );
}

export const EMULATOR_URL = `http://localhost:${PORTS.emulator}`;
export const BACKEND_URL = `http://localhost:${PORTS.backend}`;
export const REGISTRY_URL = `http://localhost:${PORTS.registry}`;
