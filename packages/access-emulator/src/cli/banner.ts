/*
 * What the command line prints once the emulator listens: where to go, the users and the identity
 * providers (never a secret).
 */
import type { AccessEmulator, AccessEmulatorOptions } from '../server';

function deviceText(device: AccessEmulator['users'][0]['device']) {
  if (!device) {
    return '';
  }
  const checks = device.posture?.length ?? 0;
  return `, device: WARP ${
    device.warp ? 'on' : 'off'
  }, ${checks} posture check${checks === 1 ? '' : 's'}`;
}

function userLine({
  email,
  name,
  groups = [],
  device,
}: AccessEmulator['users'][0]) {
  const names = groups.map(g => (typeof g === 'string' ? g : g.name));
  const suffix = names.length > 0 ? ` [${names.join(', ')}]` : '';
  return `    ${email}${name ? ` (${name})` : ''}${suffix}${deviceText(
    device,
  )}`;
}

function providerLine(p: AccessEmulator['identityProviders'][0]) {
  const scopes = p.scopes.join(' ');
  const pkce = p.pkce ? ', PKCE' : '';
  return `    ${p.name}: issuer ${p.issuer}, client ${p.clientId}, scopes "${scopes}", groups claim "${p.groupsClaim}"${pkce}`;
}

export function bannerLines(
  emulator: AccessEmulator,
  options: AccessEmulatorOptions,
): string[] {
  const backends = [options.backendUrl].flat().join(', ');
  const providers = emulator.identityProviders;
  return [
    `Cloudflare Access emulator listening on ${emulator.listenUrl}`,
    `  URL:      ${emulator.url}`,
    `  Login:    ${emulator.loginUrl}`,
    `  Certs:    ${emulator.certsUrl}`,
    `  Issuer:   ${emulator.issuer}`,
    `  AUD:      ${emulator.audience.join(', ')}`,
    `  Frontend: ${options.frontendUrl}   Backend: ${backends}`,
    ...(emulator.users.length > 0
      ? ['  Users:', ...emulator.users.map(userLine)]
      : ['  Users:    none listed (--users <file>); any email can sign in']),
    ...(providers.length > 0
      ? [
          '  Identity providers (OpenID Connect, discovered at the first login):',
          ...providers.map(providerLine),
          `    Redirect URI to register at the IdP: ${providers[0].redirectUri}`,
        ]
      : []),
    ...(emulator.managedOAuth
      ? [
          `  Managed OAuth: ${emulator.managedOAuth.authorizationServerMetadataUrl}`,
        ]
      : []),
    '',
  ];
}
