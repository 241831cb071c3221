import { BlockList, isIP } from 'node:net';

// Address ranges, not spellings: BlockList also matches the IPv4-mapped IPv6
// form of an IPv4 range (::ffff:127.0.0.1 is in 127.0.0.0/8).
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

// "This host on this network": connecting to 0.0.0.0 or :: reaches this machine.
const unspecified = new BlockList();
unspecified.addSubnet('0.0.0.0', 8, 'ipv4');
unspecified.addAddress('::', 'ipv6');

/**
 * The host as WHATWG URL canonicalises it, so every spelling of an address
 * (`127.1`, `2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`) becomes one form;
 * lower-case, without brackets or a trailing dot. Undefined when it is no host.
 */
function canonicalHost(hostname: string): string | undefined {
  const host = hostname.trim();
  // A bare IPv6 address (from a caller that did not take it from a URL) needs brackets.
  const bracketed = isIP(host) === 6 ? `[${host}]` : host;
  let canonical: string;
  try {
    canonical = new URL(`http://${bracketed}/`).hostname;
  } catch {
    return undefined;
  }
  return canonical.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

function inRange(list: BlockList, host: string): boolean {
  const family = isIP(host);
  return family !== 0 && list.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * True for hosts that never leave the machine; only these may use http:
 * `localhost` and any spelling of an address in 127.0.0.0/8 or ::1,
 * IPv4-mapped forms included.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = canonicalHost(hostname);
  return (
    host !== undefined && (host === 'localhost' || inRange(loopback, host))
  );
}

/**
 * True for hosts that name this machine: loopback, `*.localhost` (which
 * browsers and some resolvers send to loopback) and the unspecified address
 * (0.0.0.0/8, ::, and their IPv4-mapped forms). Whatever listens there would
 * be trusted as Cloudflare Access, so outside development such a team domain
 * needs an explicit opt-in.
 */
export function namesThisMachine(hostname: string): boolean {
  const host = canonicalHost(hostname);
  return (
    host !== undefined &&
    (isLoopbackHost(host) ||
      host.endsWith('.localhost') ||
      inRange(unspecified, host))
  );
}
