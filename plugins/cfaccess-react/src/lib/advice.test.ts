import { getCloudflareAccessAdvice } from './advice';
import type { CloudflareAccessRefusalReason } from './refusal';

const GENERIC_TITLE = 'Cloudflare Access refused this request';

// Every code of the backend module's errors.ts, and the boundary's rules.
const ALL_REASONS: CloudflareAccessRefusalReason[] = [
  'missing_token',
  'malformed_token',
  'token_too_large',
  'unsupported_alg',
  'unknown_kid',
  'bad_signature',
  'expired',
  'not_yet_valid',
  'wrong_issuer',
  'wrong_audience',
  'wrong_token_type',
  'missing_claims',
  'unknown_service_token',
  'conflicting_tokens',
  'keys_unavailable',
  'user_not_found',
  'identity_unavailable',
  'identity_mismatch',
  'conflicting_credentials',
  'boundary_unavailable',
  'posture_required',
  'posture_stale',
  'warp_required',
  'country_not_allowed',
  'identity_provider_not_allowed',
  'people_only',
  'access_application_required',
  'access_context_unavailable',
];

describe('getCloudflareAccessAdvice', () => {
  it.each(ALL_REASONS)('has advice of its own for %s', reason => {
    const advice = getCloudflareAccessAdvice({ reason });
    expect(advice.title).not.toBe(GENERIC_TITLE);
    expect(advice.title.length).toBeGreaterThan(10);
    expect(advice.action).toMatch(/^[A-Z].*\.$/s);
    expect(`${advice.title} ${advice.action}`).not.toMatch(
      /undefined|null|\(reason/,
    );
  });

  it.each<[CloudflareAccessRefusalReason, RegExp, RegExp]>([
    ['posture_required', /did not pass a required device check/, /managed?/],
    ['posture_stale', /has not checked this device recently/, /WARP.*on/],
    ['warp_required', /^Turn on Cloudflare WARP and try again$/, /WARP/],
    ['country_not_allowed', /location/, /country/],
    ['identity_provider_not_allowed', /login method/, /Sign out of/],
    ['people_only', /people/i, /service token/],
    ['access_application_required', /Sign in/, /stricter.*Reload the page/],
    ['identity_unavailable', /Cloudflare Access/, /try again/],
    ['access_context_unavailable', /check your device/, /try again/],
    ['expired', /expired/, /Reload the page/],
    ['user_not_found', /No Backstage user/, /admin/],
  ])('tells what to do for %s', (reason, title, action) => {
    const advice = getCloudflareAccessAdvice({ reason });
    expect(advice.title).toMatch(title);
    expect(advice.action).toMatch(action);
  });

  it('names the posture check the device failed', () => {
    const advice = getCloudflareAccessAdvice({
      reason: 'posture_required',
      requirement: { postureCheck: 'Disk encryption' },
    });
    expect(advice.title).toBe(
      'This device did not pass the check “Disk encryption”',
    );
    expect(advice.action).toMatch(/fix what the check looks for/);
  });

  it('names the posture check whose result is too old', () => {
    const advice = getCloudflareAccessAdvice({
      reason: 'posture_stale',
      requirement: { postureCheck: 'Firewall' },
    });
    expect(advice.action).toMatch(
      /^The last passing result of the check “Firewall” is too old/,
    );
  });

  it('gives generic advice, with the code, for a reason it does not know', () => {
    const advice = getCloudflareAccessAdvice({ reason: 'tor_not_allowed' });
    expect(advice.title).toBe(GENERIC_TITLE);
    expect(advice.action).toMatch(/\(reason: tor_not_allowed\)/);
  });

  it('does not throw on odd input', () => {
    for (const refusal of [
      undefined,
      null,
      {},
      { reason: 42 },
      { reason: 'posture_required', requirement: null },
      { reason: 'posture_required', requirement: { postureCheck: 42 } },
    ]) {
      const advice = getCloudflareAccessAdvice(refusal as never);
      expect(advice.title).toBeTruthy();
      expect(advice.action).not.toMatch(/undefined|null|42/);
    }
  });
});
