/**
 * Runs `work` with the event loop held open. Node 20's fetch can wait on a connection the peer
 * reset without holding the loop (its timeout timer is unref'd), so a CLI awaiting it would just
 * exit with code 13 ("unsettled top-level await") instead of reporting the failure.
 */
export async function keepingAlive<T>(work: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 60_000);
  try {
    return await work();
  } finally {
    clearInterval(hold);
  }
}
