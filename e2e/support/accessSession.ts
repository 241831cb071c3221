import { expect } from '@playwright/test';
import { EMULATOR_URL } from '../../playwright.config';

/**
 * Signs a person in on the emulator's login page over HTTP, as a script would after `cloudflared access
 * login`: their application token (the CF_Authorization cookie's value).
 */
export async function accessTokenOf(email: string): Promise<string> {
  const res = await fetch(`${EMULATOR_URL}/cdn-cgi/access/login`, {
    method: 'POST',
    body: new URLSearchParams({ email, redirect_url: '/' }),
    redirect: 'manual',
  });
  expect(res.status).toBe(302);
  const token = res.headers
    .getSetCookie()
    .map(cookie => /^CF_Authorization=([^;]+)/.exec(cookie)?.[1])
    .find(Boolean);
  expect(token).toBeTruthy();
  return token!;
}
