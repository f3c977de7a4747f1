import { TooManyRequestsError } from '@vtp/service-kit';

/**
 * Long-lived streams (live events, followed logs) each hold a connection and a database listener: a user may
 * keep only so many open on one backend at once, so one client opening thousands cannot starve the others.
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();
  private readonly perUser: number;

  constructor(perUser: number) {
    this.perUser = perUser;
  }

  /** Takes a slot for `userId`, or throws 429; the returned function gives it back (once). */
  acquire(userId: string): () => void {
    const held = this.open.get(userId) ?? 0;
    if (held >= this.perUser) {
      throw new TooManyRequestsError(
        `At most ${this.perUser} live streams per user at once; close one first`,
        5,
        'too_many_streams',
      );
    }
    this.open.set(userId, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(userId) ?? 1) - 1;
      if (left > 0) this.open.set(userId, left);
      else this.open.delete(userId);
    };
  }
}
