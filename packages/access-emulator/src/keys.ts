/*
 * The signing keys: a current and a previous RSA key, rotation on demand, and persistence as private JWK
 * files (mode 0600) in a state directory, so a restart keeps issued sessions valid.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  type JWK,
  type JWTVerifyGetKey,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
} from 'jose';
import { createSigningKeyCertificatePem } from './certificates';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  /** As stored in the state directory. */
  privateJwk: JWK;
  /** As served in /cdn-cgi/access/certs. */
  publicJwk: JWK;
  /** Self-signed X.509 certificate of the key, PEM. */
  certPem: string;
}

export interface CertsDocument {
  keys: JWK[];
  public_cert: { kid: string; cert: string };
  public_certs: Array<{ kid: string; cert: string }>;
}

const CURRENT_FILE = 'current.jwk.json';
const PREVIOUS_FILE = 'previous.jwk.json';

async function signingKey(jwk: JWK, source: string): Promise<SigningKey> {
  const { kid, kty, n, e, d } = jwk;
  if (kty !== 'RSA' || !d || !n || !e) {
    throw new Error(`${source}: not a private RSA JWK`);
  }
  if (typeof kid !== 'string' || !kid) {
    throw new Error(`${source}: the JWK has no kid`);
  }
  const publicJwk: JWK = { kid, kty, alg: 'RS256', use: 'sig', e, n };
  const privateKey = (await importJWK(jwk, 'RS256')) as CryptoKey;
  const publicKey = (await importJWK(publicJwk, 'RS256')) as CryptoKey;
  return {
    kid,
    privateKey,
    privateJwk: { ...jwk, alg: 'RS256', use: 'sig' },
    publicJwk,
    certPem: await createSigningKeyCertificatePem({ privateKey, publicKey }),
  };
}

async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return signingKey({ ...jwk, kid: randomBytes(32).toString('hex') }, 'new');
}

/** The key in `file`, or undefined when there is no such file. */
async function readKey(file: string): Promise<SigningKey | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error: any) {
    if (error?.code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
  await fs.chmod(file, 0o600);
  try {
    return await signingKey(JSON.parse(text), file);
  } catch (error: any) {
    throw error instanceof SyntaxError
      ? new Error(`${file}: not valid JSON (${error.message})`)
      : error;
  }
}

async function writeKey(file: string, key: SigningKey): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const text = `${JSON.stringify(key.privateJwk, null, 2)}\n`;
  await fs.writeFile(tmp, text, { mode: 0o600 });
  await fs.chmod(tmp, 0o600);
  await fs.rename(tmp, file);
}

export class KeyStore {
  #jwks!: JWTVerifyGetKey;

  /** Keys from the state directory (written there when new), or in memory only without one. */
  static async open(options: { stateDir?: string } = {}): Promise<KeyStore> {
    if (!options.stateDir) {
      return new KeyStore(await generateSigningKey());
    }
    const dir = path.resolve(options.stateDir);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    let current = await readKey(path.join(dir, CURRENT_FILE));
    if (!current) {
      current = await generateSigningKey();
      await writeKey(path.join(dir, CURRENT_FILE), current);
    }
    const previous = await readKey(path.join(dir, PREVIOUS_FILE));
    return new KeyStore(
      current,
      previous?.kid === current.kid ? undefined : previous,
      dir,
    );
  }

  private constructor(
    private currentKey: SigningKey,
    private previousKey?: SigningKey,
    private readonly stateDir?: string,
  ) {
    this.#update();
  }

  get current(): SigningKey {
    return this.currentKey;
  }

  /** A jose key resolver over the public keys, as a consumer of the certs would build. */
  get verificationKeys(): JWTVerifyGetKey {
    return this.#jwks;
  }

  /** Makes a new current key; the old current key becomes the previous one. */
  async rotate(): Promise<{ kid: string; previousKid: string }> {
    const next = await generateSigningKey();
    if (this.stateDir) {
      await writeKey(path.join(this.stateDir, PREVIOUS_FILE), this.currentKey);
      await writeKey(path.join(this.stateDir, CURRENT_FILE), next);
    }
    this.previousKey = this.currentKey;
    this.currentKey = next;
    this.#update();
    return { kid: next.kid, previousKid: this.previousKey.kid };
  }

  /** The body of /cdn-cgi/access/certs, in Cloudflare's shape: the current key first. */
  certsDocument(): CertsDocument {
    const keys = [this.currentKey, this.previousKey].filter(
      k => k !== undefined,
    );
    return {
      keys: keys.map(k => ({ ...k.publicJwk })),
      public_cert: { kid: this.currentKey.kid, cert: this.currentKey.certPem },
      public_certs: keys.map(k => ({ kid: k.kid, cert: k.certPem })),
    };
  }

  #update() {
    this.#jwks = createLocalJWKSet({ keys: this.certsDocument().keys });
  }
}
