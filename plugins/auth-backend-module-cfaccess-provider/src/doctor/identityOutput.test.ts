/*
 * What the identity provider says about a person (display name, group
 * names, the identity provider's type) reaches the doctor's output as text
 * to read, never as something the terminal acts on: no window-title change,
 * no screen clear, no fake line.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { bypass, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import {
  developmentConfig,
  Fixture,
  startFixture,
} from './__testUtils__/doctorFixtures';
import { runInProcess } from './__testUtils__/runInProcess';
import { rawControls } from './__testUtils__/terminalText';
import { exitCodes } from './exitCodes';

// An OSC window-title change, then a line of its own that fakes the verdict.
const NAME = 'Mallory\u001b]0;pwned\u0007\nResult: no problems found';
// A screen clear and cursor home; U+009B, the one-character CSI.
const GROUPS = ['ops\u001b[2J\u001b[H', 'csi\u009b31m'];
// A colour and a bidi isolate that reorders what follows.
const IDP_TYPE = 'saml\u001b[31m\u2066';

const server = setupServer();
let fixture: Fixture;

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'bypass' });
  fixture = await startFixture({
    users: [{ email: 'mallory@example.com', name: NAME, groups: GROUPS }],
  });
  await fixture.writeConfig(
    'app-config.yaml',
    developmentConfig(fixture.emulator),
  );
  // The emulator's answer, with the identity provider's type an IdP could send.
  server.use(
    http.get(
      `${fixture.emulator.url}/cdn-cgi/access/get-identity`,
      async ({ request }) => {
        const identity = await (await fetch(bypass(request))).json();
        return HttpResponse.json({
          ...identity,
          idp: { ...identity.idp, type: IDP_TYPE },
        });
      },
    ),
  );
  await fs.writeFile(
    path.join(fixture.dir, 'token.txt'),
    await fixture.emulator.mintUserToken('mallory@example.com'),
  );
});
afterAll(async () => {
  server.close();
  await fixture.close();
});

const doctor = (...flags: string[]) =>
  runInProcess(
    ['doctor', '-c', 'app-config.yaml', '--token-file', 'token.txt', ...flags],
    { cwd: fixture.dir },
  );

describe("the identity provider's values in the doctor's output", () => {
  it('are shown escaped in the text, on the line they belong to', async () => {
    const { code, stdout, stderr } = await doctor();
    expect(stderr).toBe('');
    expect(code).toBe(exitCodes.ok);
    expect(rawControls(stdout)).toEqual([]);
    expect(
      stdout.split('\n').filter(line => line.startsWith('Result:')),
    ).toEqual(['Result: no problems found (exit 0)']);
    expect(stdout).toContain(
      '  identity (get-identity): Mallory\\u001b]0;pwned\\u0007\\u000aResult: no problems found <mallory@example.com>, groups: ops\\u001b[2J\\u001b[H, csi\\u009b31m, idp saml\\u001b[31m\\u2066\n',
    );
  });

  it('are JSON escapes with --json, the values unchanged', async () => {
    const { code, stdout } = await doctor('--json');
    expect(code).toBe(exitCodes.ok);
    // JSON.stringify leaves U+009B and the bidi isolate raw; the doctor does not.
    expect(rawControls(stdout)).toEqual([]);
    expect(stdout).toContain('csi\\u009b31m');
    expect(JSON.parse(stdout).token.identity).toEqual({
      status: 'ok',
      name: NAME,
      email: 'mallory@example.com',
      groups: GROUPS,
      idp: { id: expect.any(String), type: IDP_TYPE },
    });
  });
});
