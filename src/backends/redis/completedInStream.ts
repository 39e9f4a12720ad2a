// Finds what a completed job returned in its queue's events stream, for a coordinator that re-attaches
// (after a window reload) to a job that completed meanwhile: jobs are removed from Redis when they
// complete (redisExecution.ts), and the stream's `completed` entry is then the one record of their
// outcome. Invariants:
//  - every `find` made in one turn of the event loop is answered by one scan of the stream, newest
//    entry first, which stops once all of them are found or at the stream's start;
//  - a `completed` entry answers a `find` only when its job id is the one asked and its return value
//    names the same record (`createdAt`): a job id comes back in each session, so an entry of an
//    earlier session's job of that id is not this one's;
//  - each `find` settles once: with the return value as the stream holds it (JSON), or undefined when
//    the stream holds none (never completed, or trimmed); a Redis error rejects the finds of its scan.
import type { Redis } from 'ioredis';
import { safeParse } from './jobWire';

/** Stream entries read per round trip. */
const PAGE = 1000;

interface Wanted {
  jobId: string;
  createdAt: number;
  resolve: (returnvalue: string | undefined) => void;
  reject: (err: unknown) => void;
}

export class CompletedInStream {
  private wanted: Wanted[] = [];

  constructor(
    private readonly commands: Redis,
    private readonly streamKey: string,
  ) {}

  /** The return value (JSON) of job `jobId` of the record created at `createdAt`, if the stream holds its completion. */
  find(jobId: string, createdAt: number): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.wanted.push({ jobId, createdAt, resolve, reject });
      if (this.wanted.length === 1) setImmediate(() => void this.scan());
    });
  }

  private async scan(): Promise<void> {
    const wanted = this.wanted;
    this.wanted = [];
    const left = new Map<string, Wanted[]>();
    for (const w of wanted) left.set(w.jobId, [...(left.get(w.jobId) ?? []), w]);
    try {
      let end = '+';
      while (left.size > 0) {
        const page = await this.commands.xrevrange(this.streamKey, end, '-', 'COUNT', PAGE);
        for (const [, fields] of page) {
          const entry = fieldsOf(fields);
          if (entry.event !== 'completed' || entry.jobId === undefined || entry.returnvalue === undefined) continue;
          const asking = left.get(entry.jobId);
          if (!asking) continue;
          const createdAt = (safeParse(entry.returnvalue) as { createdAt?: unknown } | undefined)?.createdAt;
          for (const w of asking) if (w.createdAt === createdAt) w.resolve(entry.returnvalue);
          const still = asking.filter((w) => w.createdAt !== createdAt);
          if (still.length > 0) left.set(entry.jobId, still);
          else left.delete(entry.jobId);
        }
        const last = page.at(-1);
        if (last === undefined || page.length < PAGE) break;
        end = `(${last[0]}`;
      }
      for (const ws of left.values()) for (const w of ws) w.resolve(undefined);
    } catch (err) {
      for (const w of wanted) w.reject(err);
    }
  }
}

/** A stream entry's flat field list as a map. */
function fieldsOf(fields: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i] as string] = fields[i + 1];
  return out;
}
