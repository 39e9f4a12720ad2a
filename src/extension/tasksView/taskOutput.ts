// Task output, live and after the fact: one output channel per task, opened on demand (Show Output),
// fed with what the task printed so far and then live while it runs.
//
// Where output lives (CONVENTIONS 12: output goes to files, not to workspace state):
// - live chunks are appended to `<storageUri>/output/<id>.log`, coalesced (one write per task per
//   `flushMs`) and capped at `maxFileBytes` per task, so a reload keeps whole outputs;
// - without a storage folder (no workspace open), a bounded in-memory tail per task;
// - always, as a last resort, the record's own `result.output` tail kept by the core.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Disposable, Event } from '../../core/util/events';
import type { TaskRecord } from '../../core/model/model';

export interface OutputChunk {
  id: string;
  chunk: string;
}

const MEMORY_TAIL = 64 * 1024;

export interface TaskOutputOptions {
  /** Folder for the per-task log files; undefined keeps output in memory only. */
  dir?: string;
  flushMs?: number;
  maxFileBytes?: number;
  /** Output channels kept open at most; the least recently shown is closed first. */
  maxChannels?: number;
}

export class TaskOutput implements vscode.Disposable {
  private readonly pending = new Map<string, string[]>();
  private readonly written = new Map<string, number>();
  private readonly memory = new Map<string, string>();
  private readonly channels = new Map<string, vscode.OutputChannel>();
  /** Live chunks that arrive while a channel is being filled with what came before them. */
  private readonly opening = new Map<string, string[]>();
  private readonly openingDone = new Map<string, Promise<vscode.OutputChannel>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly subscription: Disposable | undefined;
  private readonly flushMs: number;
  private readonly maxFileBytes: number;
  private readonly maxChannels: number;

  constructor(
    onDidOutput: Event<OutputChunk> | undefined,
    private readonly options: TaskOutputOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 250;
    this.maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
    this.maxChannels = options.maxChannels ?? 10;
    this.subscription = onDidOutput?.((e) => this.append(e.id, e.chunk));
  }

  append(id: string, chunk: string): void {
    this.channels.get(id)?.append(chunk);
    this.opening.get(id)?.push(chunk);
    if (this.options.dir) {
      const list = this.pending.get(id);
      if (list) list.push(chunk);
      else this.pending.set(id, [chunk]);
      if (this.timer === undefined) this.timer = setTimeout(() => void this.flush(), this.flushMs);
    } else {
      const text = (this.memory.get(id) ?? '') + chunk;
      this.memory.set(id, text.length > MEMORY_TAIL ? text.slice(-MEMORY_TAIL) : text);
    }
  }

  /** Writes what is pending; resolves when it is on disk. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const dir = this.options.dir;
    if (!dir || !this.pending.size) return this.writing;
    const batch = [...this.pending];
    this.pending.clear();
    // Writes are chained so a task's chunks reach its file in order.
    this.writing = this.writing.then(async () => {
      await fs.mkdir(dir, { recursive: true });
      for (const [id, chunks] of batch) {
        const used = this.written.get(id) ?? 0;
        if (used >= this.maxFileBytes) continue;
        let text = chunks.join('');
        if (used + Buffer.byteLength(text) > this.maxFileBytes) {
          text = `${text.slice(0, Math.max(0, this.maxFileBytes - used))}\n[output truncated at ${this.maxFileBytes} bytes]\n`;
        }
        this.written.set(id, used + Buffer.byteLength(text));
        try {
          await fs.appendFile(this.file(id), text);
        } catch {
          // Losing a log line must never fail a task; the record keeps its own tail.
        }
      }
    });
    return this.writing;
  }

  /** Everything known of a task's output: its log file, else the memory tail, else the record's tail. */
  async read(record: TaskRecord): Promise<string> {
    await this.flush();
    if (this.options.dir) {
      try {
        return await fs.readFile(this.file(record.id), 'utf8');
      } catch {
        // No file: the task printed nothing in this storage, or ran before it existed.
      }
    }
    return this.memory.get(record.id) ?? record.result?.output ?? '';
  }

  /** Opens (or reveals) the task's output channel. */
  async show(record: TaskRecord, preserveFocus = true): Promise<vscode.OutputChannel> {
    const channel = this.channels.get(record.id) ?? (await (this.openingDone.get(record.id) ?? this.open(record)));
    // Least recently shown first: re-insert to move this one to the end.
    this.channels.delete(record.id);
    this.channels.set(record.id, channel);
    while (this.channels.size > this.maxChannels) {
      const [oldId, old] = this.channels.entries().next().value as [string, vscode.OutputChannel];
      old.dispose();
      this.channels.delete(oldId);
    }
    channel.show(preserveFocus);
    return channel;
  }

  /**
   * Creates a task's channel: what was written so far, then what arrived while reading it, then live.
   * `read` flushes the chunks pending when it starts, so the file it reads ends where `opening` begins
   * (unless the next coalesced flush lands within the few milliseconds of the read itself).
   */
  private open(record: TaskRecord): Promise<vscode.OutputChannel> {
    const id = record.id;
    this.opening.set(id, []);
    const done = this.read(record)
      .then((text) => {
        const late = (this.opening.get(id) ?? []).join('');
        const channel = vscode.window.createOutputChannel(`Orchestrator: ${record.name} (${id.slice(0, 8)})`);
        channel.append(text || late ? text + late : `(${record.name} has printed nothing yet)\n`);
        this.channels.set(id, channel);
        return channel;
      })
      .finally(() => {
        this.opening.delete(id);
        this.openingDone.delete(id);
      });
    this.openingDone.set(id, done);
    return done;
  }

  /** Forgets a removed task's output: its channel, memory and file. */
  async forget(ids: readonly string[]): Promise<void> {
    await this.flush();
    for (const id of ids) {
      this.channels.get(id)?.dispose();
      this.channels.delete(id);
      this.memory.delete(id);
      this.written.delete(id);
      if (this.options.dir) await fs.rm(this.file(id), { force: true }).catch(() => undefined);
    }
  }

  /** Deletes every log file (Clear History). */
  async clear(keep: ReadonlySet<string>): Promise<void> {
    await this.flush();
    const dir = this.options.dir;
    if (!dir) return;
    const files = await fs.readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      files.filter((f) => f.endsWith('.log') && !keep.has(f.slice(0, -4))).map((f) => fs.rm(path.join(dir, f), { force: true }).catch(() => undefined)),
    );
  }

  private file(id: string): string {
    // Ids come from the core, but a file name is built from them: keep it to a safe alphabet.
    return path.join(this.options.dir as string, `${id.replace(/[^\w-]/g, '_')}.log`);
  }

  dispose(): void {
    void this.flush();
    this.subscription?.dispose();
    for (const c of this.channels.values()) c.dispose();
    this.channels.clear();
  }
}
