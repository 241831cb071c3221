/*
 * Which names the emulator answers for. A browser sends the name it resolved in `Host`, so a page that
 * rebinds its own DNS name to 127.0.0.1 (DNS rebinding) still says `Host: <its name>`: answering only
 * for the public URL's host and for loopback names keeps such pages out. Ports are not compared: a
 * rebinding page cannot change the name, and a port forward in front of the emulator stays usable.
 */
import { isIP } from 'node:net';

const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i;

/** The hostname of a `Host` header (IPv6 without brackets), or undefined for a malformed one. */
export function hostnameOf(host: string | undefined): string | undefined {
  const match = host ? HOST_HEADER.exec(host.trim()) : null;
  // The URL parser refuses what the pattern lets through: ports above 65535, IPv6 such as `[:::::]`.
  if (!match || !URL.canParse(`http://${match[0]}`)) {
    return undefined;
  }
  return match[1].toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/** `localhost`, `*.localhost` (browsers resolve those to loopback themselves), 127.0.0.0/8 and ::1. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name.endsWith('.localhost')) {
    return true;
  }
  const mapped = name.replace(/^::ffff:/, '');
  if (isIP(mapped) === 4) {
    return mapped.startsWith('127.');
  }
  return isIP(name) === 6 && /^(0{0,4}:){1,7}0{0,3}1$|^::1$/.test(name);
}

/** Whether a socket's remote address is a loopback one (127.0.0.0/8, ::1, IPv4-mapped 127.x). */
export function isLoopbackAddress(address: string | undefined): boolean {
  return (
    !!address &&
    isIP(address.replace(/^::ffff:/, '')) !== 0 &&
    isLoopbackName(address)
  );
}

/** A check of the `Host` header: the public origin's hostname and loopback names pass. */
export function createHostCheck(
  publicOrigin: string,
): (host: string | undefined) => boolean {
  const publicName = hostnameOf(new URL(publicOrigin).host);
  return host => {
    const name = hostnameOf(host);
    return name !== undefined && (name === publicName || isLoopbackName(name));
  };
}

/**
 * The origins that are this emulator for a request: the public origin, and the origin the request was
 * sent to (its `Host` over the public scheme). Used for `Origin` checks and same-origin redirects.
 */
export function ownOrigins(
  publicOrigin: string,
  host: string | undefined,
): string[] {
  const origins = [publicOrigin];
  if (hostnameOf(host) !== undefined) {
    origins.push(new URL(`${new URL(publicOrigin).protocol}//${host}`).origin);
  }
  return origins;
}
