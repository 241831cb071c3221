/*
 * The signing keystore: a current and a previous RSA key, rotation on demand,
 * and persistence as private JWK files (mode 0600) in a state directory so a
 * restart keeps issued sessions valid.
 */
import {
  KeyObject,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import { createSigningKeyCertificatePem } from './certificates';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  /** Public JWK as served in /cdn-cgi/access/certs. */
  publicJwk: JWK;
  /** Self-signed X.509 certificate for the key, PEM encoded. */
  certPem: string;
}

export interface CertsDocument {
  keys: JWK[];
  public_cert: { kid: string; cert: string };
  public_certs: Array<{ kid: string; cert: string }>;
}

const CURRENT_FILE = 'current.jwk.json';
const PREVIOUS_FILE = 'previous.jwk.json';
const CERT_COMMON_NAME = 'Cloudflare Access Emulator';

async function fromPrivateJwk(jwk: JWK, source: string): Promise<SigningKey> {
  if (jwk.kty !== 'RSA' || !jwk.d || !jwk.n || !jwk.e) {
    throw new Error(`${source}: not a private RSA JWK`);
  }
  if (typeof jwk.kid !== 'string' || !jwk.kid) {
    throw new Error(`${source}: the JWK has no kid`);
  }
  const privateKey = createPrivateKey({ key: jwk as any, format: 'jwk' });
  const exported = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicJwk: JWK = {
    kid: jwk.kid,
    kty: 'RSA',
    alg: 'RS256',
    use: 'sig',
    e: exported.e as string,
    n: exported.n as string,
  };
  return {
    kid: jwk.kid,
    privateKey,
    publicJwk,
    certPem: await createSigningKeyCertificatePem({
      privateKey,
      commonName: CERT_COMMON_NAME,
    }),
  };
}

function generatePrivateJwk(): JWK {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  return {
    ...jwk,
    kid: randomBytes(32).toString('hex'),
    alg: 'RS256',
    use: 'sig',
  };
}

function toPrivateJwk(key: SigningKey): JWK {
  return {
    ...(key.privateKey.export({ format: 'jwk' }) as JWK),
    kid: key.kid,
    alg: 'RS256',
    use: 'sig',
  };
}

async function readJwk(file: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error: any) {
    if (error?.code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
  try {
    return JSON.parse(text) as JWK;
  } catch (error: any) {
    throw new Error(`${file}: not valid JSON (${error.message})`);
  }
}

async function writeJwk(file: string, jwk: JWK): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(jwk, null, 2)}\n`, {
    mode: 0o600,
  });
  await fs.chmod(tmp, 0o600);
  await fs.rename(tmp, file);
}

export class KeyStore {
  #current: SigningKey;
  #previous: SigningKey | undefined;
  #jwks: JWTVerifyGetKey;
  readonly #stateDir: string | undefined;

  /**
   * Opens the keystore. With a state directory, keys are loaded from it (or
   * generated and written to it); without one they live in memory only.
   */
  static async open(options: { stateDir?: string } = {}): Promise<KeyStore> {
    const stateDir = options.stateDir
      ? path.resolve(options.stateDir)
      : undefined;
    if (!stateDir) {
      return new KeyStore(
        await fromPrivateJwk(generatePrivateJwk(), 'generated key'),
        undefined,
        undefined,
      );
    }
    await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
    const currentFile = path.join(stateDir, CURRENT_FILE);
    const previousFile = path.join(stateDir, PREVIOUS_FILE);
    let currentJwk = await readJwk(currentFile);
    if (!currentJwk) {
      currentJwk = generatePrivateJwk();
      await writeJwk(currentFile, currentJwk);
    } else {
      await fs.chmod(currentFile, 0o600);
    }
    const previousJwk = await readJwk(previousFile);
    const current = await fromPrivateJwk(currentJwk, currentFile);
    const previous =
      previousJwk && previousJwk.kid !== current.kid
        ? await fromPrivateJwk(previousJwk, previousFile)
        : undefined;
    return new KeyStore(current, previous, stateDir);
  }

  private constructor(
    current: SigningKey,
    previous: SigningKey | undefined,
    stateDir: string | undefined,
  ) {
    this.#current = current;
    this.#previous = previous;
    this.#stateDir = stateDir;
    this.#jwks = this.#buildJwks();
  }

  get current(): SigningKey {
    return this.#current;
  }

  get previous(): SigningKey | undefined {
    return this.#previous;
  }

  /** The keys that verify tokens: the current one first, then the previous one. */
  get keys(): SigningKey[] {
    return this.#previous ? [this.#current, this.#previous] : [this.#current];
  }

  /** A jose key resolver over the public keys, as a consumer of the certs would build. */
  get verificationKeys(): JWTVerifyGetKey {
    return this.#jwks;
  }

  /** Makes a new current key; the old current key becomes the previous one. */
  async rotate(): Promise<{ kid: string; previousKid: string }> {
    const next = await fromPrivateJwk(generatePrivateJwk(), 'generated key');
    const old = this.#current;
    if (this.#stateDir) {
      await writeJwk(
        path.join(this.#stateDir, PREVIOUS_FILE),
        toPrivateJwk(old),
      );
      await writeJwk(
        path.join(this.#stateDir, CURRENT_FILE),
        toPrivateJwk(next),
      );
    }
    this.#previous = old;
    this.#current = next;
    this.#jwks = this.#buildJwks();
    return { kid: next.kid, previousKid: old.kid };
  }

  /** The body of /cdn-cgi/access/certs, in Cloudflare's shape. */
  certsDocument(): CertsDocument {
    return {
      keys: this.keys.map(k => ({ ...k.publicJwk })),
      public_cert: { kid: this.#current.kid, cert: this.#current.certPem },
      public_certs: this.keys.map(k => ({ kid: k.kid, cert: k.certPem })),
    };
  }

  #buildJwks(): JWTVerifyGetKey {
    return createLocalJWKSet({ keys: this.keys.map(k => k.publicJwk) });
  }
}
