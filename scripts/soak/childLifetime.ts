/**
 * For the soak's helper processes (its PostgreSQL, its object store): run `stop` once on SIGTERM or SIGINT, or
 * when the parent is gone (a SIGKILL of the soak runs no exit hook), then exit.
 */
export function stopWithParent(stop: () => Promise<void>): void {
  let stopping = false;
  const stopOnce = () => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stopOnce);
  process.once('SIGINT', stopOnce);
  const parent = process.ppid;
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      stopOnce();
    }
  }, 1000).unref();
}
