import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import orgPlugin from '@backstage/plugin-org/alpha';
import scaffolderPlugin from '@backstage/plugin-scaffolder/alpha';
import userSettingsPlugin from '@backstage/plugin-user-settings/alpha';
import {
  cloudflareAccessRefusalAdviceModule,
  cloudflareAccessSignInModule,
} from '@cfaccess/plugin-cfaccess-react/alpha';
import { navModule } from './modules/nav';

/**
 * The example app on Backstage's new frontend system. cloudflareAccessSignInModule makes Cloudflare
 * Access the way in: no login form, the Access session is the sign-in. cloudflareAccessRefusalAdviceModule
 * says what to do when the backend's Access boundary refuses a request, e.g. running a Software Template
 * (the scaffolder's "Create") on a device without WARP or failing a posture check.
 */
export default createApp({
  features: [
    cloudflareAccessSignInModule,
    cloudflareAccessRefusalAdviceModule,
    catalogPlugin,
    orgPlugin,
    scaffolderPlugin,
    userSettingsPlugin,
    navModule,
  ],
});
