import { useCallback, useMemo } from 'react';
import {
  ProxiedSignInPage,
  type ProxiedSignInPageProps,
} from '@backstage/core-components';
import type { IdentityApi, SignInPageProps } from '@backstage/core-plugin-api';
import { CloudflareAccessIdentity } from '../lib/CloudflareAccessIdentity';
import {
  DEFAULT_CLOUDFLARE_ACCESS_LOGOUT_URL,
  DEFAULT_CLOUDFLARE_ACCESS_PROVIDER_ID,
} from '../lib/constants';
import { clearAutoReloadMarker } from '../lib/reloadGuard';
import { SignInErrorState } from './SignInErrorState';

/**
 * Props for {@link CloudflareAccessSignInPage}.
 *
 * @public
 */
export type CloudflareAccessSignInPageProps = SignInPageProps & {
  /**
   * The id of the auth provider in the auth backend.
   *
   * @defaultValue 'cfaccess'
   */
  provider?: string;
  /**
   * Where the browser goes after Backstage's own sign-out, to end the
   * Cloudflare Access session. Relative URLs resolve against the current page.
   *
   * @defaultValue '/cdn-cgi/access/logout' (on the current origin)
   */
  logoutUrl?: string;
  /**
   * Extra headers sent with the request to the refresh endpoint.
   */
  headers?: ProxiedSignInPageProps['headers'];
};

/**
 * A sign-in page for Backstage apps behind Cloudflare Access. It has no login
 * form: it asks the `cfaccess` auth provider who the Access token belongs to.
 *
 * @remarks
 *
 * Built on `ProxiedSignInPage`. Sign-out also ends the Access session, and
 * failures are shown as pages that say what happened and offer one action.
 *
 * @public
 */
export function CloudflareAccessSignInPage(
  props: CloudflareAccessSignInPageProps,
) {
  const {
    onSignInSuccess,
    provider = DEFAULT_CLOUDFLARE_ACCESS_PROVIDER_ID,
    logoutUrl = DEFAULT_CLOUDFLARE_ACCESS_LOGOUT_URL,
    headers,
  } = props;

  const handleSignInSuccess = useCallback(
    (identity: IdentityApi) => {
      clearAutoReloadMarker();
      onSignInSuccess(new CloudflareAccessIdentity(identity, { logoutUrl }));
    },
    [onSignInSuccess, logoutUrl],
  );

  // Stable per logoutUrl, so ProxiedSignInPage does not remount the error state.
  const ErrorComponent = useMemo(
    () => (errorProps: { error?: Error }) =>
      <SignInErrorState {...errorProps} logoutUrl={logoutUrl} />,
    [logoutUrl],
  );

  return (
    <ProxiedSignInPage
      provider={provider}
      headers={headers}
      onSignInSuccess={handleSignInSuccess}
      ErrorComponent={ErrorComponent}
    />
  );
}
