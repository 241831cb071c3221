import { isLoopbackHost, namesThisMachine } from './hostNames';

// [host, loopback (may use http), names this machine (needs the opt-in outside development)]
const table: Array<[string, boolean, boolean]> = [
  ['localhost', true, true],
  ['LOCALHOST', true, true],
  ['localhost.', true, true],
  ['127.0.0.1', true, true],
  ['127.255.255.255', true, true],
  ['127.0.0.1.', true, true],
  // Every IPv4 spelling WHATWG URL accepts for 127.0.0.1.
  ['127.1', true, true],
  ['127.0.1', true, true],
  ['2130706433', true, true],
  ['0x7f.1', true, true],
  ['0x7f000001', true, true],
  ['0177.0.0.1', true, true],
  // IPv6 loopback and IPv4-mapped loopback, in any notation.
  ['[::1]', true, true],
  ['::1', true, true],
  ['[0:0:0:0:0:0:0:1]', true, true],
  ['[::ffff:127.0.0.1]', true, true],
  ['[::ffff:7f00:1]', true, true],
  ['[::FFFF:7F00:1]', true, true],
  ['[0:0:0:0:0:ffff:7f00:1]', true, true],
  ['[::ffff:7fff:ffff]', true, true],
  // The unspecified address reaches this machine too, but is not loopback.
  ['0.0.0.0', false, true],
  ['0', false, true],
  ['0x0', false, true],
  ['0.1.2.3', false, true],
  ['[::]', false, true],
  ['::', false, true],
  ['[0:0:0:0:0:0:0:0]', false, true],
  ['[::ffff:0:0]', false, true],
  ['[::ffff:0.0.0.0]', false, true],
  // *.localhost may be resolved through DNS: never a reason to allow http.
  ['emulator.localhost', false, true],
  ['EMULATOR.LOCALHOST.', false, true],
  // Elsewhere.
  ['127.256.0.1', false, false],
  ['128.0.0.1', false, false],
  ['10.0.0.1', false, false],
  ['[::ffff:a00:1]', false, false],
  ['[::2]', false, false],
  ['[64:ff9b::7f00:1]', false, false],
  ['localhost.example.com', false, false],
  ['127.0.0.1.example.com', false, false],
  ['myteam.cloudflareaccess.com', false, false],
  ['', false, false],
  ['not a host', false, false],
];

describe.each(table)('%j', (host, loopback, thisMachine) => {
  it(`is ${loopback ? '' : 'not '}loopback`, () => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
  it(`does ${thisMachine ? '' : 'not '}name this machine`, () => {
    expect(namesThisMachine(host)).toBe(thisMachine);
  });
});
