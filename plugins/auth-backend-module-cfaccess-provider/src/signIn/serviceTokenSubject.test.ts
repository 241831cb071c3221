import { parseServiceTokenSubject } from './serviceTokenSubject';

describe('parseServiceTokenSubject', () => {
  it.each([
    ['bot-user@your-company.com', { email: 'bot-user@your-company.com' }],
    ['user:default/ci-bot', { entityRef: 'user:default/ci-bot' }],
    ['User:ci-bot', { entityRef: 'user:default/ci-bot' }],
    ['ci-bot', { entityRef: 'user:default/ci-bot' }],
    ['robots/ci-bot', { entityRef: 'user:robots/ci-bot' }],
    // Not an email (it has a namespace), so an entity ref whose name has an @ : invalid.
    ['user:default/ci@bot', undefined],
    ['group:default/admins', undefined],
    ['ci bot', undefined],
    ['a@b@c', undefined],
    [':', undefined],
  ])('reads %j as %j', (subject, expected) => {
    expect(parseServiceTokenSubject(subject)).toEqual(
      expected && { subject, ...expected },
    );
  });
});
