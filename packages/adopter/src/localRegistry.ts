/*
 * A minimal npm registry for the packed tarballs (the local-registry workaround): the packument
 * (`GET /@scope%2fname`) and the tarball. Tarball URLs carry a hash of their content, so yarn's cache,
 * shared by every checkout on this machine, never hands out another run's tarball of the same version.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { PackedPackage } from './tarballs';

export interface LocalRegistry {
  url: string;
  /** Requests served, for the report. */
  requests: string[];
  close(): Promise<void>;
}

function packument(pkg: PackedPackage, url: string) {
  const data = fs.readFileSync(pkg.file);
  const sha512 = crypto.createHash('sha512').update(data).digest();
  const content = sha512.toString('hex').slice(0, 16);
  const base = pkg.name.split('/').pop();
  const tarball = `${url}/${pkg.name}/-/${content}/${base}-${pkg.version}.tgz`;
  const published = fs.statSync(pkg.file).mtime.toISOString();
  return {
    tarballPath: new URL(tarball).pathname,
    doc: {
      name: pkg.name,
      'dist-tags': { latest: pkg.version },
      time: {
        created: published,
        modified: published,
        [pkg.version]: published,
      },
      versions: {
        [pkg.version]: {
          ...pkg.manifest,
          _id: `${pkg.name}@${pkg.version}`,
          dist: {
            tarball,
            integrity: `sha512-${sha512.toString('base64')}`,
            shasum: crypto.createHash('sha1').update(data).digest('hex'),
          },
        },
      },
    },
  };
}

export async function startLocalRegistry(
  packages: PackedPackage[],
  port: number,
): Promise<LocalRegistry> {
  const url = `http://localhost:${port}`;
  const byName = new Map(
    packages.map(p => [p.name, { pkg: p, ...packument(p, url) }]),
  );
  const byTarball = new Map(
    [...byName.values()].map(e => [e.tarballPath, e.pkg]),
  );
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push(`${req.method} ${path}`);
    const entry = byName.get(decodeURIComponent(path.slice(1)));
    if (entry) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(entry.doc));
      return;
    }
    const tarball = byTarball.get(path);
    if (tarball) {
      res.setHeader('content-type', 'application/octet-stream');
      fs.createReadStream(tarball.file).pipe(res);
      return;
    }
    res.statusCode = 404;
    res.setHeader('content-type', 'application/json');
    res.end('{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const close = () =>
    new Promise<void>(resolve => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url, requests, close };
}
