import { startAccessEmulator } from '@cfaccess/access-emulator';
(async () => {
  const e = await startAccessEmulator({ port: 7391, users: [{ email: 'alice@example.com', name: 'Alice Example', groups: ['engineering'] }] as any });
  const t = await e.mintUserToken('alice@example.com');
  require('fs').writeFileSync('/tmp/doc/token', t);
  require('fs').writeFileSync('/tmp/doc/expired', await e.mintUserToken('alice@example.com', { expiresInSeconds: -7200 }));
  console.log('ready', e.url, e.audience);
})();
