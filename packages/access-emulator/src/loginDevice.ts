/*
 * The login page's device choices: a collapsed "Device" fieldset in each sign-in form (WARP, country, each
 * posture check passing or failing), filled with the person's device facts now, and what a login POST
 * with it changes.
 */
import type { DevicePatch, PersonFacts } from './deviceStates';
import { escapeHtml } from './html';

/** Marks a login form that carries device choices (an unticked checkbox sends nothing). */
const MARKER = 'device';

function summaryText(facts: PersonFacts): string {
  const { device } = facts;
  const parts = [`WARP ${device?.warp ? 'on' : 'off'}`, facts.country];
  if (device?.rawPosture) {
    parts.push('posture set by an admin');
  } else if (device && device.posture.length > 0) {
    const passing = device.posture.filter(c => c.success).length;
    const total = device.posture.length;
    parts.push(
      total === 1
        ? `${passing} of 1 check passes`
        : `${passing} of ${total} checks pass`,
    );
  }
  return `Device: ${parts.join(', ')}`;
}

function checkbox(id: string, name: string, value: string, checked: boolean) {
  return `<input type="checkbox" id="${id}" name="${name}" value="${escapeHtml(
    value,
  )}"${checked ? ' checked' : ''}>`;
}

/**
 * The fieldset for one sign-in form. `key` makes its element ids unique on the page; `who` (if known)
 * names the person in the legend.
 */
export function renderDeviceFieldset(
  key: string,
  who: string,
  facts: PersonFacts,
): string {
  const { device } = facts;
  const id = (name: string) => `${key}-${name}`;
  const checks = device?.rawPosture
    ? ['<p class="hint">devicePosture is set by an admin (raw JSON).</p>']
    : (device?.posture ?? []).map(
        (check, i) => `<input type="hidden" name="posture" value="${escapeHtml(
          check.id,
        )}">
<div class="check">${checkbox(
          id(`posture-${i}`),
          'posture_pass',
          check.id,
          check.success,
        )}<label for="${id(`posture-${i}`)}">${escapeHtml(
          check.name,
        )} passes <span class="hint">(${escapeHtml(
          check.type,
        )})</span></label></div>`,
      );
  return `<details class="device">
<summary>${escapeHtml(summaryText(facts))}</summary>
<fieldset>
<legend>${who ? `Device of ${escapeHtml(who)}` : 'Device'}</legend>
<input type="hidden" name="${MARKER}" value="1">
<div class="check">${checkbox(
    id('warp'),
    'warp',
    'on',
    device?.warp ?? false,
  )}<label for="${id('warp')}">Through WARP (is_warp)</label></div>
<div class="field"><label for="${id(
    'country',
  )}">Country</label><input class="country" id="${id(
    'country',
  )}" name="country" value="${escapeHtml(
    facts.country,
  )}" maxlength="2" pattern="[A-Za-z]{2}" autocomplete="off"></div>
${checks.join('\n')}
</fieldset>
</details>`;
}

export type LoginDeviceChoice =
  | { kind: 'none' }
  | { kind: 'patch'; patch: DevicePatch }
  | { kind: 'invalid'; error: string };

const strings = (value: unknown): string[] =>
  [value].flat().filter((v): v is string => typeof v === 'string');

/**
 * What a login form's device choices change, given the person's facts now: the country (when given),
 * WARP (a person without a device gets one only by ticking WARP), and the success of each posture check
 * the form showed. A form without the fieldset (scripts, tests) changes nothing.
 */
export function loginDeviceChoice(
  body: Record<string, unknown>,
  facts: PersonFacts,
): LoginDeviceChoice {
  if (body[MARKER] !== '1') {
    return { kind: 'none' };
  }
  const country = typeof body.country === 'string' ? body.country.trim() : '';
  if (country && !/^[A-Za-z]{2}$/.test(country)) {
    return {
      kind: 'invalid',
      error: 'Enter a two-letter country code for the device.',
    };
  }
  const warp = body.warp === 'on';
  const passing = new Set(strings(body.posture_pass));
  const known = new Set(
    facts.device?.rawPosture ? [] : facts.device?.posture.map(c => c.id),
  );
  const shown = strings(body.posture).filter(id => known.has(id));
  const patch: DevicePatch = {};
  if (country) {
    patch.country = country;
  }
  if (facts.device || warp) {
    patch.warp = warp;
  }
  if (shown.length > 0) {
    patch.posture = Object.fromEntries(
      shown.map(id => [id, { success: passing.has(id) }]),
    );
  }
  return { kind: 'patch', patch };
}
