import { useState, type ReactNode } from 'react';
import Box from '@material-ui/core/Box';
import Paper from '@material-ui/core/Paper';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { getCloudflareAccessAdvice } from '../lib/advice';
import type { CloudflareAccessRefusal } from '../lib/refusal';

/**
 * Props for {@link CloudflareAccessRefusalPanel}.
 *
 * @public
 */
export type CloudflareAccessRefusalPanelProps = {
  /** The refusal, from {@link getCloudflareAccessRefusal}. */
  refusal: CloudflareAccessRefusal;
  /** Shown under the advice, e.g. a "Try again" button. */
  children?: ReactNode;
};

const useStyles = makeStyles(
  theme => ({
    root: {
      padding: theme.spacing(2),
      borderLeft: `4px solid ${theme.palette.error.main}`,
    },
    reason: {
      fontFamily: 'monospace',
    },
  }),
  { name: 'CfaccessRefusalPanel' },
);

let nextId = 0;

/**
 * Shows a request refused by Cloudflare Access checks: what went wrong and
 * what to do about it ({@link getCloudflareAccessAdvice}), and the reason code
 * for the admin. Announced to assistive technology as an alert.
 *
 * @public
 */
export function CloudflareAccessRefusalPanel(
  props: CloudflareAccessRefusalPanelProps,
) {
  const { refusal, children } = props;
  const classes = useStyles();
  const [titleId] = useState(() => `cfaccess-refusal-title-${++nextId}`);
  const advice = getCloudflareAccessAdvice(refusal);
  return (
    <Paper
      role="alert"
      aria-labelledby={titleId}
      variant="outlined"
      className={classes.root}
    >
      <Typography id={titleId} variant="h6" component="p" gutterBottom>
        {advice.title}
      </Typography>
      <Typography variant="body1">{advice.action}</Typography>
      <Box marginTop={1}>
        <Typography variant="caption" color="textSecondary" component="p">
          Cloudflare Access reason:{' '}
          <span className={classes.reason}>{refusal.reason}</span>
        </Typography>
      </Box>
      {children && <Box marginTop={2}>{children}</Box>}
    </Paper>
  );
}
