import { screen } from '@testing-library/react';
import { renderInTestApp } from '@backstage/test-utils';
import { refusalBody, scaffolderError } from '../__testUtils__/refusal';
import { getCloudflareAccessRefusal } from '../lib/refusal';
import { CloudflareAccessRefusalPanel } from './CloudflareAccessRefusalPanel';

describe('CloudflareAccessRefusalPanel', () => {
  it('shows the advice for a posture refusal, naming the check, as an alert', async () => {
    const refusal = getCloudflareAccessRefusal(scaffolderError());
    expect(refusal).toBeDefined();
    await renderInTestApp(<CloudflareAccessRefusalPanel refusal={refusal!} />);

    const alert = screen.getByRole('alert', {
      name: 'This device did not pass the check “Disk encryption”',
    });
    expect(alert).toHaveTextContent('Disk encryption');
    expect(alert).toHaveTextContent(
      'Use a device your organisation manages, with Cloudflare WARP turned on',
    );
    expect(alert).toHaveTextContent(
      'Cloudflare Access reason: posture_required',
    );
    // The advice, not the raw error.
    expect(alert).not.toHaveTextContent('Backend request failed');
  });

  it('shows what to do for WARP', async () => {
    await renderInTestApp(
      <CloudflareAccessRefusalPanel
        refusal={{ reason: 'warp_required', message: 'x' }}
      />,
    );
    expect(
      screen.getByRole('alert', {
        name: 'Turn on Cloudflare WARP and try again',
      }),
    ).toHaveTextContent(
      'This action only works through the Cloudflare WARP client',
    );
  });

  it('shows generic advice and the code for a reason it does not know', async () => {
    const refusal = getCloudflareAccessRefusal(
      refusalBody('tor_not_allowed', null),
    );
    await renderInTestApp(<CloudflareAccessRefusalPanel refusal={refusal!} />);
    const alert = screen.getByRole('alert', {
      name: 'Cloudflare Access refused this request',
    });
    expect(alert).toHaveTextContent('(reason: tor_not_allowed)');
  });

  it('renders its children under the advice, and labels each panel by its own title', async () => {
    await renderInTestApp(
      <>
        <CloudflareAccessRefusalPanel
          refusal={{ reason: 'people_only', message: 'x' }}
        >
          <button>Try again</button>
        </CloudflareAccessRefusalPanel>
        <CloudflareAccessRefusalPanel
          refusal={{ reason: 'country_not_allowed', message: 'x' }}
        />
      </>,
    );
    const alerts = screen.getAllByRole('alert');
    expect(alerts).toHaveLength(2);
    expect(alerts[0]).toHaveAccessibleName('Only people can do this');
    expect(alerts[1]).toHaveAccessibleName(
      'Not allowed from your current location',
    );
    expect(alerts[0]).toContainElement(
      screen.getByRole('button', { name: 'Try again' }),
    );
  });
});
