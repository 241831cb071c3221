import { useEffect, useState } from 'react';
import { ErrorPanel, Progress } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { classifyRefreshError, userNotFoundMessage } from '../lib/errors';
import { navigation, resolveUrl } from '../lib/navigation';
import { claimAutoReload, clearAutoReloadMarker } from '../lib/reloadGuard';
import { StatePanel } from './StatePanel';

/** Titles, exported for tests and documentation. @internal */
export const STATE_TITLES = {
  unauthorized: 'Sign in through Cloudflare Access',
  expired: 'Your Cloudflare Access session has expired',
  userNotFound: 'No Backstage user for your Cloudflare Access sign-in',
  error: 'Could not sign in with Cloudflare Access',
} as const;

function NotSignedInState() {
  return (
    <StatePanel
      title={STATE_TITLES.unauthorized}
      description="This request did not come through Cloudflare Access, or your Access session has ended, so Backstage could not tell who you are."
      actionLabel="Sign in with Cloudflare Access"
      // A navigation (not fetch) lets Access show its login page.
      onAction={() => navigation.navigateTo(navigation.currentUrl())}
    />
  );
}

function UserNotFoundState(props: { error: Error; logoutUrl: string }) {
  const { error, logoutUrl } = props;
  return (
    <StatePanel
      title={STATE_TITLES.userNotFound}
      description={
        userNotFoundMessage(error) ??
        'Cloudflare Access signed you in, but Backstage has no user for you; ask your Backstage admin.'
      }
      actionLabel="Sign out of Cloudflare Access"
      // Ends the Access session, so that another account can sign in.
      onAction={() => {
        clearAutoReloadMarker();
        navigation.navigateTo(resolveUrl(logoutUrl));
      }}
    />
  );
}

// The automatic-reload decision is made once per failure, keyed on the error
// object, so that re-mounts and strict mode's double-invoked state
// initialisers cannot flip it to "show the page" after the guard was claimed.
const reloadDecisions = new WeakMap<object, boolean>();

function decideAutoReload(error: Error): boolean {
  let decision = reloadDecisions.get(error);
  if (decision === undefined) {
    decision = claimAutoReload();
    reloadDecisions.set(error, decision);
  }
  return decision;
}

function SessionExpiredState(props: { error: Error }) {
  const [autoReload] = useState(() => decideAutoReload(props.error));

  useEffect(() => {
    if (autoReload) {
      navigation.reloadPage();
    }
  }, [autoReload]);

  if (autoReload) {
    return (
      <Box padding={4} role="status">
        <Typography variant="body1" gutterBottom>
          Reconnecting to Cloudflare Access…
        </Typography>
        <Progress />
      </Box>
    );
  }

  return (
    <StatePanel
      title={STATE_TITLES.expired}
      description="Cloudflare Access needs you to sign in again before Backstage can load."
      actionLabel="Reload page"
      onAction={() => navigation.reloadPage()}
    />
  );
}

/**
 * The most specific message available: a `ResponseError` says only "Request
 * failed with 503 ...", while the backend's own explanation is its `cause`.
 */
function describeError(error: Error): string {
  const cause = (error as { cause?: { message?: unknown } }).cause;
  const causeMessage =
    error.name === 'ResponseError' && typeof cause === 'object'
      ? cause?.message
      : undefined;
  if (typeof causeMessage === 'string' && causeMessage) {
    return `${causeMessage} (${error.message})`;
  }
  return error.message;
}

function OtherErrorState(props: { error: Error }) {
  const { error } = props;
  return (
    <Box padding={2}>
      <ErrorPanel
        title={`${STATE_TITLES.error}: ${describeError(error)}`}
        error={error}
      />
      <Box marginTop={2}>
        <Button
          variant="contained"
          color="primary"
          onClick={() => navigation.reloadPage()}
        >
          Try again
        </Button>
      </Box>
    </Box>
  );
}

/**
 * Rendered by `ProxiedSignInPage` (as its `ErrorComponent`) when the call to
 * the backend's refresh endpoint fails.
 *
 * @internal
 */
export function SignInErrorState(props: { error?: Error; logoutUrl: string }) {
  const error =
    props.error ?? new Error('Sign-in failed for an unknown reason');
  switch (classifyRefreshError(error)) {
    case 'unauthorized':
      return <NotSignedInState />;
    case 'network':
      return <SessionExpiredState error={error} />;
    case 'user_not_found':
      return <UserNotFoundState error={error} logoutUrl={props.logoutUrl} />;
    default:
      return <OtherErrorState error={error} />;
  }
}
