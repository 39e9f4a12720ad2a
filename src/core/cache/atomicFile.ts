// Writes that a reader never sees half done: the data goes to a temporary file beside the target
// (same directory, so the same file system) and is renamed over it. rename(2) replaces the target in
// one step, so a reader sees the old file or the new one; two writers of the same path at once each
// rename their own complete temporary file, and the last rename wins. Temporary names carry the pid
// and a random suffix so concurrent writers (threads of one process, or processes) never share one,
// and end in TEMP_SUFFIX so a sweep can recognise leftovers of a crash.
import { randomBytes } from 'node:crypto';
import { chmod, rename, unlink, writeFile } from 'node:fs/promises';

export const TEMP_SUFFIX = '.tmp';

/** A fresh temporary path beside `target`, unique to this call. */
export function tempPathFor(target: string): string {
  return `${target}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
}

/** Writes `data` to `target` atomically; `mode` (permission bits) is set exactly, whatever the umask. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const temp = tempPathFor(target);
  try {
    await writeFile(temp, data, mode === undefined ? undefined : { mode });
    if (mode !== undefined) await chmod(temp, mode);
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
