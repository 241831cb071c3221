/*
 * A minimal DER encoder that produces a self-signed X.509 v3 certificate for
 * an RSA key, so /cdn-cgi/access/certs can serve certificate PEMs like
 * Cloudflare does without extra dependencies.
 */
import {
  KeyObject,
  createPublicKey,
  randomBytes,
  sign as cryptoSign,
} from 'node:crypto';

function derLength(length: number): Buffer {
  if (length < 0x80) {
    return Buffer.from([length]);
  }
  const bytes: number[] = [];
  let rest = length;
  while (rest > 0) {
    bytes.unshift(rest & 0xff);
    rest >>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [40 * parts[0] + parts[1]];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    let rest = Math.floor(part / 128);
    while (rest > 0) {
      chunk.unshift((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function positiveInteger(bytes: Buffer): Buffer {
  let content = bytes;
  while (content.length > 1 && content[0] === 0 && content[1] < 0x80) {
    content = content.subarray(1);
  }
  if (content[0] >= 0x80) {
    content = Buffer.concat([Buffer.from([0]), content]);
  }
  return tlv(0x02, content);
}

function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(
    8,
    10,
  )}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) {
    return tlv(0x17, Buffer.from(digits.slice(2), 'ascii')); // UTCTime
  }
  return tlv(0x18, Buffer.from(digits, 'ascii')); // GeneralizedTime
}

function name(commonName: string): Buffer {
  return sequence(
    set(sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))),
  );
}

const SHA256_WITH_RSA = sequence(
  oid('1.2.840.113549.1.1.11'),
  Buffer.from([0x05, 0x00]),
);

/** Creates a self-signed certificate (PEM) for an RSA private key. */
export function createSelfSignedCertificatePem(options: {
  privateKey: KeyObject;
  commonName: string;
  notBefore?: Date;
  validDays?: number;
}): string {
  const notBefore = options.notBefore ?? new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(
    notBefore.getTime() + (options.validDays ?? 3650) * 24 * 60 * 60 * 1000,
  );
  const spki = createPublicKey(options.privateKey).export({
    type: 'spki',
    format: 'der',
  });
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const subject = name(options.commonName);
  const tbs = sequence(
    tlv(0xa0, positiveInteger(Buffer.from([2]))), // version v3
    positiveInteger(serial),
    SHA256_WITH_RSA,
    subject, // issuer (self-signed)
    sequence(time(notBefore), time(notAfter)),
    subject,
    spki,
  );
  const signature = cryptoSign('sha256', tbs, options.privateKey);
  const der = sequence(
    tbs,
    SHA256_WITH_RSA,
    tlv(0x03, Buffer.from([0]), signature),
  );
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}
