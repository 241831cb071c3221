import {
  isKnownCloudflareAccessReason,
  type CloudflareAccessRefusal,
  type CloudflareAccessRefusalReason,
} from './refusal';

/**
 * What to tell the person about a {@link CloudflareAccessRefusal}: a short
 * title that names the problem, and what to do about it, in plain words.
 *
 * @public
 */
export type CloudflareAccessAdvice = {
  /** One line that names the problem, e.g. "Turn on Cloudflare WARP". */
  title: string;
  /** What to do, in one or two sentences. */
  action: string;
};

type AdviceFor = (requirement: { postureCheck?: string }) => {
  title: string;
  action: string;
};

const TRY_AGAIN_LATER =
  'Wait a moment, then try again. If it keeps happening, tell your Backstage admin.';

/** The 401s of a token Access issued but the backend could not accept. */
const signInAgain: AdviceFor = () => ({
  title: 'Cloudflare Access did not accept your sign-in',
  action:
    'Reload the page to sign in through Cloudflare Access again, then try again. If it keeps happening, tell your Backstage admin.',
});

const ADVICE: Record<CloudflareAccessRefusalReason, AdviceFor> = {
  posture_required: ({ postureCheck }) => ({
    title: postureCheck
      ? `This device did not pass the check “${postureCheck}”`
      : 'This device did not pass a required device check',
    action:
      'This action is only allowed from a device that passes it. Use a device your organisation manages, with Cloudflare WARP turned on, and fix what the check looks for (your IT team can tell you how). Then try again.',
  }),
  posture_stale: ({ postureCheck }) => ({
    title: 'Cloudflare WARP has not checked this device recently',
    action: `The last passing result of ${
      postureCheck ? `the check “${postureCheck}”` : 'the device check'
    } is too old for this action. Make sure Cloudflare WARP is turned on and connected, wait a minute for it to check the device again, then try again.`,
  }),
  warp_required: () => ({
    title: 'Turn on Cloudflare WARP and try again',
    action:
      'This action only works through the Cloudflare WARP client, and this request did not come through it. Turn on WARP on this device, connected to your organisation.',
  }),
  country_not_allowed: () => ({
    title: 'Not allowed from your current location',
    action:
      'This action is not allowed from the country Cloudflare sees you connecting from. If you use a VPN, turn it off or connect through an allowed country; otherwise ask your Backstage admin.',
  }),
  identity_provider_not_allowed: () => ({
    title: 'Sign in with another login method',
    action:
      'This action does not accept the login method you used for Cloudflare Access. Sign out of Cloudflare Access, sign in again with the login your organisation requires for it (your Backstage admin can tell you which), then try again.',
  }),
  people_only: () => ({
    title: 'Only people can do this',
    action:
      'The request came with a Cloudflare Access service token (an automated client), and this action is for people only. Do it yourself, signed in in the browser, or ask your Backstage admin.',
  }),
  access_application_required: () => ({
    title: 'Sign in to the protected part of Backstage',
    action:
      'This action is behind its own, stricter Cloudflare Access application. Reload the page and sign in when Cloudflare Access asks, then try again. If it keeps failing, ask your Backstage admin for access.',
  }),
  identity_unavailable: () => ({
    title: 'Could not check your Cloudflare Access details',
    action: `Backstage could not reach Cloudflare Access to check your account and device just now. ${TRY_AGAIN_LATER}`,
  }),
  access_context_unavailable: () => ({
    title: 'Could not check your device with Cloudflare Access',
    action: `Backstage could not reach Cloudflare Access to check your device just now. ${TRY_AGAIN_LATER}`,
  }),
  boundary_unavailable: () => ({
    title: 'Backstage cannot check Cloudflare Access right now',
    action: TRY_AGAIN_LATER,
  }),
  keys_unavailable: () => ({
    title: 'Cloudflare Access is unavailable right now',
    action: `Backstage could not get the Cloudflare Access signing keys. ${TRY_AGAIN_LATER}`,
  }),
  identity_mismatch: () => ({
    title: 'Your Backstage session belongs to someone else',
    action:
      'Your Backstage sign-in is not the person signed in to Cloudflare Access (a shared browser, or a copied token). Reload the page to sign in again.',
  }),
  user_not_found: () => ({
    title: 'No Backstage user for your Cloudflare Access sign-in',
    action:
      'Cloudflare Access signed you in, but Backstage has no user for you. Ask your Backstage admin to add you, or sign out of Cloudflare Access and sign in with another account.',
  }),
  conflicting_credentials: () => ({
    title: 'The request carried more than one sign-in',
    action:
      'Something added a second credential to the request, such as a browser extension or a proxy. Reload the page; if it keeps happening, tell your Backstage admin.',
  }),
  conflicting_tokens: () => ({
    title: 'The request carried more than one Cloudflare Access sign-in',
    action:
      'Something added a second Cloudflare Access token to the request, such as a browser extension or a proxy. Reload the page; if it keeps happening, tell your Backstage admin.',
  }),
  missing_token: () => ({
    title: 'Sign in through Cloudflare Access',
    action:
      'The request did not come through Cloudflare Access, or your Access session has ended. Open Backstage at its usual address and reload the page, then try again.',
  }),
  expired: () => ({
    title: 'Your Cloudflare Access session has expired',
    action: 'Reload the page to sign in again, then try again.',
  }),
  not_yet_valid: () => ({
    title: 'Your Cloudflare Access sign-in is not valid yet',
    action:
      'The clock of this computer or of the Backstage server may be off. Wait a minute and reload the page; if it keeps happening, tell your Backstage admin.',
  }),
  unknown_service_token: () => ({
    title: 'This service token may not use Backstage',
    action:
      'Backstage does not allow this Cloudflare Access service token. Ask your Backstage admin to allow it, or use another one.',
  }),
  malformed_token: signInAgain,
  token_too_large: signInAgain,
  unsupported_alg: signInAgain,
  unknown_kid: signInAgain,
  bad_signature: signInAgain,
  wrong_issuer: signInAgain,
  wrong_audience: signInAgain,
  wrong_token_type: signInAgain,
  missing_claims: signInAgain,
};

/**
 * What to tell the person about a Cloudflare Access refusal: a title and what
 * to do, for every reason code of {@link CloudflareAccessRefusalReason}. The
 * posture check's name, when the backend gave it, is part of the text. A code
 * this package does not know gets generic advice that names the code, for the
 * admin.
 *
 * @public
 */
export function getCloudflareAccessAdvice(
  refusal: Pick<CloudflareAccessRefusal, 'reason' | 'requirement'>,
): CloudflareAccessAdvice {
  const reason = typeof refusal?.reason === 'string' ? refusal.reason : '';
  const postureCheck = refusal?.requirement?.postureCheck;
  const requirement =
    typeof postureCheck === 'string' && postureCheck ? { postureCheck } : {};
  if (isKnownCloudflareAccessReason(reason)) {
    return ADVICE[reason](requirement);
  }
  return {
    title: 'Cloudflare Access refused this request',
    action: `Backstage's Cloudflare Access checks did not allow this request${
      reason ? ` (reason: ${reason})` : ''
    }. Reload the page and try again; if it keeps happening, tell your Backstage admin${
      reason ? ' the reason' : ''
    }.`,
  };
}

/**
 * The advice as one line, for displays that show a single string (the legacy
 * app's `AlertDisplay`).
 *
 * @internal
 */
export function formatCloudflareAccessAdvice(
  advice: CloudflareAccessAdvice,
): string {
  return `${advice.title}: ${advice.action}`;
}
