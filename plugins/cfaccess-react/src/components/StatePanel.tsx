import type { ReactNode } from 'react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Card from '@material-ui/core/Card';
import CardActions from '@material-ui/core/CardActions';
import CardContent from '@material-ui/core/CardContent';
import Typography from '@material-ui/core/Typography';

/** @internal */
export type StatePanelProps = {
  title: string;
  description: ReactNode;
  actionLabel: string;
  onAction(): void;
};

/**
 * A centred card with a title, one sentence of cause and one action.
 *
 * @internal
 */
export function StatePanel(props: StatePanelProps) {
  const { title, description, actionLabel, onAction } = props;
  return (
    <Box
      display="flex"
      alignItems="center"
      justifyContent="center"
      minHeight="100vh"
      padding={2}
    >
      <Box maxWidth={560} width="100%">
        <Card role="alert" aria-labelledby="cfaccess-sign-in-state-title">
          <CardContent>
            <Typography
              id="cfaccess-sign-in-state-title"
              variant="h5"
              component="h1"
              gutterBottom
            >
              {title}
            </Typography>
            <Typography variant="body1" color="textSecondary">
              {description}
            </Typography>
          </CardContent>
          <CardActions>
            <Button variant="contained" color="primary" onClick={onAction}>
              {actionLabel}
            </Button>
          </CardActions>
        </Card>
      </Box>
    </Box>
  );
}
