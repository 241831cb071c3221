/*
 * The HTML pages: login (identity providers, demo users, free-form email, each with its device choices),
 * signed out, and login errors.
 * Self-contained (inline CSS, no scripts or external assets); every user-provided string is escaped.
 */
import type { PersonFacts } from './deviceStates';
import { escapeHtml } from './html';
import { renderDeviceFieldset } from './loginDevice';
import type { EmulatorUser } from './users';

export { escapeHtml } from './html';

const STYLE = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d1f23}
main{width:100%;max-width:440px;margin:24px;background:#fff;border-radius:10px;
box-shadow:0 1px 3px rgba(0,0,0,.12),0 8px 24px rgba(0,0,0,.06);padding:28px}
h1{font-size:1.3rem;margin:0 0 4px}
p.sub{margin:0 0 20px;color:#5b616e;font-size:.9rem}
.badge{display:inline-block;font-size:.7rem;font-weight:600;letter-spacing:.04em;text-transform:uppercase;
background:#fff4e5;color:#a35200;border-radius:4px;padding:2px 6px;margin-bottom:12px}
form{margin:0}
ul{list-style:none;margin:0 0 20px;padding:0}
li+li{margin-top:8px}
button.user,button.idp{width:100%;text-align:left;border:1px solid #d9dce1;background:#fff;border-radius:8px;
padding:10px 14px;cursor:pointer;font:inherit;color:inherit}
button.idp{padding:11px 14px;font-weight:600;text-align:center}
button.user:hover,button.user:focus,button.idp:hover,button.idp:focus{border-color:#f38020;outline:none;
box-shadow:0 0 0 3px rgba(243,128,32,.2)}
.name{display:block;font-weight:600}
.email,.idp-type{display:block;color:#5b616e;font-size:.85rem}
.idp-type{font-weight:400;font-size:.75rem}
.groups{display:block;margin-top:4px;font-size:.75rem;color:#3d4350}
.groups span{display:inline-block;background:#eef0f3;border-radius:3px;padding:1px 6px;margin:2px 4px 0 0}
label{display:block;font-size:.85rem;font-weight:600;margin-bottom:6px}
.row{display:flex;gap:8px}
input[type=email]{flex:1;min-width:0;border:1px solid #d9dce1;border-radius:6px;padding:9px 10px;font:inherit}
button.primary{border:0;background:#f38020;color:#fff;font-weight:600;border-radius:6px;padding:9px 16px;cursor:pointer;font:inherit}
.error{background:#fdecea;color:#8a1c12;border-radius:6px;padding:8px 10px;margin-bottom:16px;font-size:.9rem}
.divider{border-top:1px solid #eceef1;margin:20px 0 16px}
a{color:#c15f00}
details.device{margin-top:6px;font-size:.8rem}
details.device summary{cursor:pointer;color:#5b616e;padding:2px 0}
fieldset{border:1px solid #eceef1;border-radius:6px;margin:6px 0 0;padding:6px 12px 8px}
legend{font-size:.75rem;color:#5b616e;padding:0 4px}
.check,.field{display:flex;align-items:center;gap:6px;margin:4px 0}
.check label,.field label{display:inline;margin:0;font-weight:400;font-size:.8rem}
input.country{width:3.5em;border:1px solid #d9dce1;border-radius:4px;padding:3px 6px;font:inherit;text-transform:uppercase}
.hint{color:#5b616e;font-size:.75rem;margin:4px 0}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)} · Cloudflare Access emulator</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<div class="badge">Cloudflare Access emulator</div>
${body}
</main>
</body>
</html>
`;
}

const hidden = (name: string, value: string) =>
  `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;

function providerButton(p: { id: string; name: string }, redirectUrl: string) {
  return `<li><form method="get" action="/cdn-cgi/access/oidc/${encodeURIComponent(
    p.id,
  )}/login">
${hidden('redirect_url', redirectUrl)}
<button class="idp" type="submit">Sign in with ${escapeHtml(p.name)}
<span class="idp-type">OpenID Connect</span></button>
</form></li>`;
}

/** Where the device fieldsets get their values; without it the page has none. */
export interface LoginPageDevices {
  /** A person's device facts now. */
  facts(email: string): PersonFacts;
  /** The country of a person the page does not know yet (the free-form email). */
  defaultCountry: string;
}

function userButton(user: EmulatorUser, redirectUrl: string, device: string) {
  const groups = (user.groups ?? [])
    .map(g => `<span>${escapeHtml(typeof g === 'string' ? g : g.name)}</span>`)
    .join('');
  return `<li><form method="post" action="/cdn-cgi/access/login">
${hidden('email', user.email)}
${hidden('redirect_url', redirectUrl)}
<button class="user" type="submit">
<span class="name">${escapeHtml(user.name ?? user.email)}</span>
<span class="email">${escapeHtml(user.email)}</span>
${groups ? `<span class="groups">${groups}</span>` : ''}
</button>
${device}</form></li>`;
}

export function renderLoginPage(options: {
  users: EmulatorUser[];
  redirectUrl: string;
  error?: string;
  hostname?: string;
  /** OpenID Connect providers, one button each. */
  providers?: Array<{ id: string; name: string }>;
  /** Show the user list and email form (default true). */
  oneTimePin?: boolean;
  /** Device choices in each sign-in form (WARP, country, posture checks). */
  devices?: LoginPageDevices;
}): string {
  const { redirectUrl, error, hostname, oneTimePin = true } = options;
  const providers = (options.providers ?? []).map(p =>
    providerButton(p, redirectUrl),
  );
  const { devices } = options;
  const users = options.users.map((u, i) =>
    userButton(
      u,
      redirectUrl,
      devices
        ? `${renderDeviceFieldset(
            `device-${i}`,
            u.name ?? u.email,
            devices.facts(u.email),
          )}\n`
        : '',
    ),
  );
  const divider = '<div class="divider"></div>';
  let intro = 'Sign in with an identity provider.';
  if (oneTimePin) {
    intro = `${
      providers.length > 0 ? 'Sign in with an identity provider, pick' : 'Pick'
    } a user or enter any email address.`;
  }
  const emailForm = `<form method="post" action="/cdn-cgi/access/login">
${hidden('redirect_url', redirectUrl)}
<label for="email">Email</label>
<div class="row">
<input id="email" type="email" name="email" required autocomplete="email" placeholder="you@example.com">
<button class="primary" type="submit">Sign in</button>
</div>
${
  devices
    ? renderDeviceFieldset('device-email', '', {
        country: devices.defaultCountry,
      })
    : ''
}
</form>`;
  return page(
    'Sign in',
    [
      `<h1>Sign in${hostname ? ` to ${escapeHtml(hostname)}` : ''}</h1>`,
      `<p class="sub">Local development stand-in. ${intro}</p>`,
      error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : '',
      providers.length > 0
        ? `<ul>${providers.join('\n')}</ul>${oneTimePin ? divider : ''}`
        : '',
      oneTimePin && users.length > 0
        ? `<ul>${users.join('\n')}</ul>${divider}`
        : '',
      oneTimePin ? emailForm : '',
    ].join('\n'),
  );
}

/** A failed login (identity provider error, expired or forged callback, ...). */
export function renderLoginErrorPage(options: {
  title: string;
  message: string;
  /** Where "Try again" goes; default the login page. */
  retryHref?: string;
}): string {
  const retry = escapeHtml(options.retryHref ?? '/cdn-cgi/access/login');
  return page(
    options.title,
    `<h1>${escapeHtml(options.title)}</h1>
<div class="error" role="alert">${escapeHtml(options.message)}</div>
<p><a href="${retry}">Try again</a></p>`,
  );
}

export function renderSignedOutPage(): string {
  return page(
    'Signed out',
    `<h1>You have been signed out</h1>
<p class="sub">Your Access session for this application has ended.</p>
<p><a href="/cdn-cgi/access/login">Sign in again</a></p>`,
  );
}
