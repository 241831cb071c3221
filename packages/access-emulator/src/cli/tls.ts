/*
 * The command line's TLS parts: `--tls-cert`/`--tls-key` for the emulator, and the
 * `tls-certificates` command that writes a CA and a server certificate for shell use.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import {
  DEFAULT_TLS_HOSTS,
  DEFAULT_TLS_VALID_DAYS,
  MAX_TLS_VALID_DAYS,
  createTlsCertificates,
} from '../certificates';
import type { TlsOptions } from '../httpServer';
import { collect, integer } from './values';

export const TLS_CERTIFICATES_COMMAND = 'tls-certificates';

export function addTlsOptions(program: Command): Command {
  return program
    .option(
      '--tls-cert <file>',
      'serve HTTPS with this certificate (PEM; with --tls-key; see the tls-certificates command)',
    )
    .option('--tls-key <file>', 'private key (PEM) of --tls-cert')
    .addHelpText(
      'after',
      `\nCommands:\n  ${TLS_CERTIFICATES_COMMAND} --out-dir <dir> [--host <host>...]   write ca.pem, cert.pem, key.pem for --tls-cert/--tls-key`,
    );
}

/** The `tls` emulator option from `--tls-cert` and `--tls-key`: both or neither. */
export async function tlsOptionsFromCli(opts: {
  tlsCert?: string;
  tlsKey?: string;
}): Promise<TlsOptions | undefined> {
  if (opts.tlsCert === undefined && opts.tlsKey === undefined) {
    return undefined;
  }
  if (opts.tlsCert === undefined || opts.tlsKey === undefined) {
    throw new Error(
      '--tls-cert and --tls-key go together: give both files, or neither for plain HTTP',
    );
  }
  const read = (flag: string, file: string) =>
    fs.readFile(file).catch(error => {
      throw new Error(`${flag}: cannot read ${file}: ${error.message}`);
    });
  return {
    cert: await read('--tls-cert', opts.tlsCert),
    key: await read('--tls-key', opts.tlsKey),
  };
}

export function createTlsCertificatesProgram(
  out: (line: string) => void,
): Command {
  return new Command(`cfaccess-emulator ${TLS_CERTIFICATES_COMMAND}`)
    .description(
      'Writes a CA made for this call (ca.pem) and a server certificate it signed (cert.pem, key.pem) for --tls-cert/--tls-key. Clients trust the CA, e.g. NODE_EXTRA_CA_CERTS=<dir>/ca.pem; the CA key is not kept.',
    )
    .requiredOption('--out-dir <dir>', 'directory to write the files to')
    .option(
      '--host <host>',
      `name or IP address the certificate is for; repeat or comma-separate (default: ${DEFAULT_TLS_HOSTS.join(
        ', ',
      )})`,
      collect(DEFAULT_TLS_HOSTS),
      DEFAULT_TLS_HOSTS,
    )
    .option(
      '--valid-days <days>',
      'validity in days',
      integer(1, MAX_TLS_VALID_DAYS),
      DEFAULT_TLS_VALID_DAYS,
    )
    .action(
      async (opts: { outDir: string; host: string[]; validDays: number }) => {
        const certificates = await createTlsCertificates({
          hosts: opts.host,
          validDays: opts.validDays,
        });
        const dir = path.resolve(opts.outDir);
        const [ca, cert, key] = ['ca', 'cert', 'key'].map(name =>
          path.join(dir, `${name}.pem`),
        );
        await fs.mkdir(dir, { recursive: true });
        await fs.writeFile(ca, certificates.caCertPem);
        await fs.writeFile(cert, certificates.certPem);
        // Replace any older key file so the mode is 0600 whatever was there.
        await fs.rm(key, { force: true });
        await fs.writeFile(key, certificates.keyPem, { mode: 0o600 });
        await fs.chmod(key, 0o600);
        out(`Wrote ${ca}, ${cert} and ${key}`);
        out(`  for ${opts.host.join(', ')}, valid ${opts.validDays} days`);
        out(`  serve:  cfaccess-emulator --tls-cert ${cert} --tls-key ${key}`);
        out(`  Node:   NODE_EXTRA_CA_CERTS=${ca}`);
        out(
          `  Chromium: --ignore-certificate-errors-spki-list=${certificates.spkiSha256}`,
        );
      },
    );
}
