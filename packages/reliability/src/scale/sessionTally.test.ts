import { SessionTally } from './sessionTally';

const ok = { status: 200, text: '{}', userEntityRef: 'user:default/alice' };
const cut = { status: 0, text: '200 cut short: terminated', cutShort: true };
const before = { sentAfterKill: false, inFlightAtKill: false };
const atKill = { sentAfterKill: false, inFlightAtKill: true };
const after = { sentAfterKill: true, inFlightAtKill: false };

describe('SessionTally', () => {
  it('counts successes before and after the kill', () => {
    const tally = new SessionTally('user:default/alice');
    tally.record(ok, before);
    tally.record(ok, after);
    tally.record(ok, after);
    expect([tally.okBeforeKill, tally.okAfterKill, tally.total]).toEqual([
      1, 2, 3,
    ]);
    expect(tally.failures).toEqual([]);
  });

  it('takes one response cut short by the kill, and notes that the next refresh succeeded', () => {
    const tally = new SessionTally('user:default/alice');
    tally.record(cut, atKill);
    expect([tally.cutByKill, tally.recoveredAfterCut]).toEqual([1, 0]);
    tally.record(ok, after);
    expect([tally.cutByKill, tally.recoveredAfterCut]).toEqual([1, 1]);
    expect(tally.failures).toEqual([]);
    expect(tally.total).toBe(2);
  });

  it('counts a cut response as a failure when it was not in flight at the kill', () => {
    const tally = new SessionTally('user:default/alice');
    tally.record(cut, before);
    tally.record(cut, after);
    expect(tally.cutByKill).toBe(0);
    expect(tally.failures).toEqual([
      '0 200 cut short: terminated',
      '0 200 cut short: terminated',
    ]);
  });

  it('takes only one cut response per session', () => {
    const tally = new SessionTally('user:default/alice');
    tally.record(cut, atKill);
    tally.record(cut, atKill);
    expect(tally.cutByKill).toBe(1);
    expect(tally.failures).toHaveLength(1);
  });

  it('does not count a recovery when a failure follows the cut', () => {
    const tally = new SessionTally('user:default/alice');
    tally.record(cut, atKill);
    tally.record({ status: 502, text: 'Bad gateway' }, after);
    tally.record(ok, after);
    expect(tally.recoveredAfterCut).toBe(0);
    expect(tally.failures).toEqual(['502 Bad gateway']);
  });

  it("counts another user's identity as a failure", () => {
    const tally = new SessionTally('user:default/alice');
    tally.record({ ...ok, userEntityRef: 'user:default/bob' }, after);
    expect(tally.okAfterKill).toBe(0);
    expect(tally.failures).toEqual(['200 {}']);
  });
});
