import { redactUserinfo } from './redactUserinfo';

describe('redactUserinfo', () => {
  it.each([
    ['https://user:pass@team.example.com', 'https://***@team.example.com'],
    ['https://user@team.example.com/x', 'https://***@team.example.com/x'],
    ['user:pass@team.example.com', '***@team.example.com'],
    // The authority's last @ ends the userinfo, as the URL parser reads it.
    ['https://a@b:c@team.example.com', 'https://***@team.example.com'],
    // Spellings the URL parser also takes for credentials.
    ['https:user:pass@team.example.com', '***@team.example.com'],
    ['https:/\\user:pass@team.example.com', 'https:/\\***@team.example.com'],
    [' https://user:pass@team example.com', ' https://***@team example.com'],
  ])('hides the userinfo of %j', (text, shown) => {
    expect(redactUserinfo(text)).toBe(shown);
  });

  it.each([
    'https://myteam.cloudflareaccess.com',
    'myteam.cloudflareaccess.com',
    'https://team.example.com/path@x',
    'https://team.example.com?q=a@b',
    'http://localhost:7000',
  ])('leaves %j alone', text => {
    expect(redactUserinfo(text)).toBe(text);
  });
});
