/*
 * Every X.509 certificate the emulator makes, built with @peculiar/x509 on Node's WebCrypto (Node does
 * the key generation and signing; the library only encodes): the self-signed certificates that
 * /cdn-cgi/access/certs serves for the signing keys, and a CA plus a server certificate for HTTPS.
 */
// @peculiar/x509 resolves its algorithm encoders through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { KeyObject, createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

const HOUR_MS = 60 * 60 * 1000;
const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' };

export const DEFAULT_TLS_HOSTS = ['localhost', '127.0.0.1', '::1'];
export const DEFAULT_TLS_VALID_DAYS = 7;
/** Browsers refuse server certificates valid for longer. */
export const MAX_TLS_VALID_DAYS = 397;
const DNS_NAME =
  /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** From an hour ago, so a client whose clock is a little behind accepts a fresh certificate. */
function validity(validDays: number) {
  const now = Date.now();
  return {
    notBefore: new Date(now - HOUR_MS),
    notAfter: new Date(now + validDays * 24 * HOUR_MS),
  };
}

/** A self-signed certificate (PEM) for a signing key, as Cloudflare serves beside each JWK in the certs. */
export async function createSigningKeyCertificatePem(
  keys: CryptoKeyPair,
): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Cloudflare Access Emulator',
    keys,
    signingAlgorithm: RSA_SHA256,
    ...validity(3650),
  });
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
 * Makes a CA for this call and a server certificate it signs for `hosts`; clients trust `caCertPem` (Node:
 * `NODE_EXTRA_CA_CERTS=<file>`). The CA's private key is never kept, so the CA can sign nothing else.
 */
export async function createTlsCertificates(
  options: TlsCertificateOptions = {},
): Promise<TlsCertificates> {
  const names = subjectAltNames(options.hosts ?? DEFAULT_TLS_HOSTS);
  const validDays = options.validDays ?? DEFAULT_TLS_VALID_DAYS;
  if (
    !(
      Number.isInteger(validDays) &&
      validDays >= 1 &&
      validDays <= MAX_TLS_VALID_DAYS
    )
  ) {
    throw new Error(
      `tls: validDays must be an integer from 1 to ${MAX_TLS_VALID_DAYS}, got ${validDays}`,
    );
  }
  const usages: KeyUsage[] = ['sign', 'verify'];
  const caKeys = await crypto.subtle.generateKey(ECDSA_P256, false, usages);
  const keys = await crypto.subtle.generateKey(ECDSA_P256, true, usages);
  const common = { signingAlgorithm: ECDSA_SHA256, ...validity(validDays) };
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    ...common,
    name: `CN=Cloudflare Access Emulator CA ${randomBytes(4).toString('hex')}`,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const server = await x509.X509CertificateGenerator.create({
    ...common,
    subject: [{ CN: [names[0].value] }],
    issuer: ca.subject,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const spki = await crypto.subtle.exportKey('spki', keys.publicKey);
  return {
    caCertPem: `${ca.toString('pem')}\n`,
    certPem: `${server.toString('pem')}\n`,
    keyPem: KeyObject.from(keys.privateKey)
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    spkiSha256: createHash('sha256').update(Buffer.from(spki)).digest('base64'),
  };
}
