import { redactUserinfo, redactUserinfoInText } from './redactUserinfo';

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
    // Values the URL parser refuses, which the startup error echoes.
    ['https://admin:S3cr3t/x@team.example.com', 'https://***@team.example.com'],
    ['https://admin:S3?cr3t@team.example.com', 'https://***@team.example.com'],
    ['https://admin:S3#cr3t@team.example.com', 'https://***@team.example.com'],
    ['admin:S3/cr3t@team.example.com', '***@team.example.com'],
    // A team domain has no @ of its own: more is hidden, never less.
    ['https://team.example.com/path@x', 'https://***@x'],
  ])('hides the userinfo of %j', (text, shown) => {
    expect(redactUserinfo(text)).toBe(shown);
  });

  it.each([
    'https://myteam.cloudflareaccess.com',
    'myteam.cloudflareaccess.com',
    'http://localhost:7000',
  ])('leaves %j alone', text => {
    expect(redactUserinfo(text)).toBe(text);
  });
});

describe('redactUserinfoInText', () => {
  it('hides the userinfo of every URL in a message, and nothing else', () => {
    expect(
      redactUserinfoInText(
        'bad line 4: teamDomain: https://admin:S3/cr3t@team.example.com: [ and http://u@x.example — alice@example.com',
      ),
    ).toBe(
      'bad line 4: teamDomain: https://***@team.example.com: [ and http://***@x.example — alice@example.com',
    );
  });
});
