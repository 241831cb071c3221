/*
 * Every X.509 certificate the emulator makes, built with @peculiar/x509 on Node's WebCrypto (Node does
 * the key generation and signing; the library only encodes): the self-signed certificates that
 * /cdn-cgi/access/certs serves for the signing keys, and a CA plus a server certificate for HTTPS.
 */
// @peculiar/x509 resolves its algorithm encoders through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  KeyObject,
  createHash,
  createPublicKey,
  randomBytes,
  webcrypto,
} from 'node:crypto';
import { isIP } from 'node:net';

const crypto = webcrypto as unknown as Crypto;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Not before one hour ago, so a client whose clock is a little behind accepts a fresh certificate. */
const CLOCK_SKEW_MS = HOUR_MS;
const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' };

export const DEFAULT_TLS_HOSTS = ['localhost', '127.0.0.1', '::1'];
export const DEFAULT_TLS_VALID_DAYS = 7;
/** Browsers refuse server certificates valid for longer. */
export const MAX_TLS_VALID_DAYS = 397;
const DNS_NAME =
  /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

function validity(validDays: number) {
  const now = Date.now();
  return {
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + validDays * DAY_MS),
  };
}

async function toCryptoKeyPair(privateKey: KeyObject): Promise<CryptoKeyPair> {
  return {
    privateKey: await crypto.subtle.importKey(
      'pkcs8',
      privateKey.export({ type: 'pkcs8', format: 'der' }),
      RSA_SHA256,
      false,
      ['sign'],
    ),
    publicKey: await crypto.subtle.importKey(
      'spki',
      createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      RSA_SHA256,
      true,
      ['verify'],
    ),
  };
}

/**
 * A self-signed certificate (PEM) for an RSA signing key, as Cloudflare serves beside each JWK in
 * `public_cert` / `public_certs`.
 */
export async function createSigningKeyCertificatePem(options: {
  privateKey: KeyObject;
  commonName: string;
  validDays?: number;
}): Promise<string> {
  const keys = await toCryptoKeyPair(options.privateKey);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: [{ CN: [options.commonName] }],
      keys,
      signingAlgorithm: RSA_SHA256,
      ...validity(options.validDays ?? 3650),
    },
    crypto,
  );
  return `${cert.toString('pem')}\n`;
}

export interface TlsCertificateOptions {
  /**
   * Names and addresses the server certificate is valid for (its subjectAltNames: IP addresses as IP
   * entries, everything else as DNS names). Default `localhost`, `127.0.0.1`, `::1`.
   */
  hosts?: string[];
  /** Validity of the CA and the server certificate, in days. Default 7. */
  validDays?: number;
}

export interface TlsCertificates {
  /** The CA that signed `certPem`, generated for this call; its private key is never kept. */
  caCertPem: string;
  /** The server certificate (ECDSA P-256), for `startAccessEmulator({ tls: { cert, key } })`. */
  certPem: string;
  /** The server certificate's private key, PKCS #8 PEM. */
  keyPem: string;
  /**
   * Base64 SHA-256 of the server certificate's public key (SPKI), as Chromium's
   * `--ignore-certificate-errors-spki-list` takes it.
   */
  spkiSha256: string;
}

function subjectAltNames(hosts: string[]): x509.JsonGeneralNames {
  if (hosts.length === 0) {
    throw new Error('tls: at least one host is required');
  }
  return hosts.map(raw => {
    const host = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (isIP(host)) {
      return { type: 'ip', value: host };
    }
    if (!DNS_NAME.test(host)) {
      throw new Error(`tls: "${raw}" is neither an IP address nor a DNS name`);
    }
    return { type: 'dns', value: host.toLowerCase() };
  });
}

/**
 * Makes a CA for this run and a server certificate it signs for `hosts`. Clients trust the server by
 * trusting `caCertPem` (for Node: `NODE_EXTRA_CA_CERTS=<file>`). The CA's private key is dropped once the
 * server certificate is signed, so the CA can never sign anything else.
 */
export async function createTlsCertificates(
  options: TlsCertificateOptions = {},
): Promise<TlsCertificates> {
  const hosts = options.hosts ?? DEFAULT_TLS_HOSTS;
  const names = subjectAltNames(hosts);
  const validDays = options.validDays ?? DEFAULT_TLS_VALID_DAYS;
  if (
    !Number.isInteger(validDays) ||
    validDays < 1 ||
    validDays > MAX_TLS_VALID_DAYS
  ) {
    throw new Error(
      `tls: validDays must be an integer from 1 to ${MAX_TLS_VALID_DAYS}, got ${validDays}`,
    );
  }
  const dates = validity(validDays);
  const caKeys = await crypto.subtle.generateKey(ECDSA_P256, false, [
    'sign',
    'verify',
  ]);
  const serverKeys = await crypto.subtle.generateKey(ECDSA_P256, true, [
    'sign',
    'verify',
  ]);
  const caName = `CN=Cloudflare Access Emulator CA ${randomBytes(4).toString(
    'hex',
  )}`;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: caName,
      keys: caKeys,
      signingAlgorithm: ECDSA_SHA256,
      ...dates,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(
          caKeys.publicKey,
          false,
          crypto,
        ),
      ],
    },
    crypto,
  );
  const server = await x509.X509CertificateGenerator.create(
    {
      subject: [{ CN: [names[0].value] }],
      issuer: ca.subject,
      publicKey: serverKeys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ECDSA_SHA256,
      ...dates,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(
          [x509.ExtendedKeyUsage.serverAuth],
          false,
        ),
        new x509.SubjectAlternativeNameExtension(names, false),
        await x509.SubjectKeyIdentifierExtension.create(
          serverKeys.publicKey,
          false,
          crypto,
        ),
        await x509.AuthorityKeyIdentifierExtension.create(
          caKeys.publicKey,
          false,
          crypto,
        ),
      ],
    },
    crypto,
  );
  const spki = KeyObject.from(serverKeys.publicKey).export({
    type: 'spki',
    format: 'der',
  });
  return {
    caCertPem: `${ca.toString('pem')}\n`,
    certPem: `${server.toString('pem')}\n`,
    keyPem: KeyObject.from(serverKeys.privateKey)
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    spkiSha256: createHash('sha256').update(spki).digest('base64'),
  };
}
