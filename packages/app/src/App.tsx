import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import orgPlugin from '@backstage/plugin-org/alpha';
import userSettingsPlugin from '@backstage/plugin-user-settings/alpha';
import { cloudflareAccessSignInModule } from '@cfaccess/plugin-cfaccess-react/alpha';
import { navModule } from './modules/nav';

/**
 * The example app on Backstage's new frontend system. One feature, cloudflareAccessSignInModule,
 * makes Cloudflare Access the way in: no login form, the Access session is the sign-in.
 */
export default createApp({
  features: [
    cloudflareAccessSignInModule,
    catalogPlugin,
    orgPlugin,
    userSettingsPlugin,
    navModule,
  ],
});
