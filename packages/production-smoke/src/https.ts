/*
 * Requests from the smoke test's own process, which trusts the run's CA explicitly (the backend trusts it
 * through NODE_EXTRA_CA_CERTS, read at its start; this process started before the CA existed).
 */
import http from 'node:http';
import https from 'node:https';

export type Answer = {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
};

export function request(
  url: string,
  options: {
    headers?: Record<string, string>;
    ca?: string;
    method?: string;
    body?: string;
  } = {},
): Promise<Answer> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        ...(target.protocol === 'https:' && { ca: options.ca }),
        timeout: 15000,
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', chunk => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
