// The sha256 of a file's content, in bounded memory: a small file is read whole (one read is the
// fastest way for the many small files a workspace holds), a large one in chunks through a handle.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** Files up to this size are read whole; larger ones in READ_CHUNK_BYTES chunks. */
export const WHOLE_READ_MAX_BYTES = 4 * 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

/** The file operations hashing needs: node:fs/promises by default, a counting wrapper in tests. */
export interface HashFs {
  readFile(path: string): Promise<Buffer>;
  open(path: string, flags: 'r'): Promise<FileHandle>;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hex sha256 of the file at `path`; `size` (from a stat) picks whole or chunked reading. */
export async function sha256OfFile(fs: HashFs, path: string, size: number): Promise<string> {
  if (size <= WHOLE_READ_MAX_BYTES) return sha256Hex(await fs.readFile(path));
  const hash = createHash('sha256');
  const handle = await fs.open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}
