// Waiting on real work (a process, a socket, a server) in a test: polls `check` until it holds, and
// fails naming `what` after `ms`, so a hang is a clear failure rather than mocha's timeout.

/** Resolves once `check()` is true (or resolves true); rejects with `${what} did not happen within ${ms} ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
