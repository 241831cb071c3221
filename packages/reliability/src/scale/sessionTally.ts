/*
 * What one session's refreshes came to during the failover run. A refresh is a success (200 with the
 * session's user), a failure, or cut short by the kill: A died while sending it, which no proxy can retry
 * once the response is under way. Only the one refresh a session had in flight as the kill was sent may
 * count as cut; any other cut response is a failure.
 */
import type { RefreshResult } from '../processes/http';

export interface RefreshTiming {
  /** The kill had completed when this refresh was sent. */
  sentAfterKill: boolean;
  /** The refresh was in flight when the kill was sent. */
  inFlightAtKill: boolean;
}

export class SessionTally {
  okBeforeKill = 0;
  okAfterKill = 0;
  readonly failures: string[] = [];
  cutByKill = 0;
  /** Cut refreshes whose next refresh succeeded. */
  recoveredAfterCut = 0;
  private lastWasCut = false;

  constructor(readonly userEntityRef: string) {}

  record(res: RefreshResult, timing: RefreshTiming): void {
    const wasCut = this.lastWasCut;
    this.lastWasCut = false;
    if (res.status === 200 && res.userEntityRef === this.userEntityRef) {
      if (timing.sentAfterKill) {
        this.okAfterKill += 1;
      } else {
        this.okBeforeKill += 1;
      }
      if (wasCut) {
        this.recoveredAfterCut += 1;
      }
    } else if (res.cutShort && timing.inFlightAtKill && this.cutByKill === 0) {
      this.cutByKill += 1;
      this.lastWasCut = true;
    } else {
      this.failures.push(`${res.status} ${res.text.slice(0, 120)}`);
    }
  }

  get total(): number {
    return (
      this.okBeforeKill +
      this.okAfterKill +
      this.failures.length +
      this.cutByKill
    );
  }
}
