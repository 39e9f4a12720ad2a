// The last N characters of a stream of chunks, kept without concatenating everything that came.
//
// Invariant: `chunks` holds, in arrival order, everything pushed minus a prefix, and the total length
// of all chunks but the first is below `limit`. So memory is bounded by `limit` plus one chunk, and a
// build that prints 100 MB costs one pass over it, not a quadratic number of string copies.

/** Default size of a task's kept output: 64 Ki characters (64 KiB for ASCII). */
export const DEFAULT_OUTPUT_LIMIT = 64 * 1024;

export class OutputTail {
  private chunks: string[] = [];
  private head = 0; // index of the first live chunk; dropped chunks are compacted away lazily
  private size = 0; // total length of the live chunks
  private seen = 0;

  constructor(readonly limit = DEFAULT_OUTPUT_LIMIT) {}

  push(chunk: string): void {
    if (chunk.length === 0) return;
    this.seen += chunk.length;
    this.chunks.push(chunk);
    this.size += chunk.length;
    // Drop whole chunks from the front while the rest still covers the limit. With a positive limit
    // the rest is never empty, so a chunk stays at `head`.
    while (this.size - this.chunks[this.head]!.length >= this.limit) {
      this.size -= this.chunks[this.head]!.length;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Characters received in total, kept or not. */
  get totalLength(): number {
    return this.seen;
  }

  /** True when some output was dropped from the front. */
  get truncated(): boolean {
    return this.seen > this.limit;
  }

  toString(): string {
    const s = this.head === 0 ? this.chunks.join('') : this.chunks.slice(this.head).join('');
    return s.length > this.limit ? s.slice(s.length - this.limit) : s;
  }
}
