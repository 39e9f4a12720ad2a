// A Store kept in one JSON file, rewritten whole and synchronously on every update: what a host
// killed with SIGKILL has written is on disk, and the next process reads it back.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Store } from '../../src/core/ports';

export class JsonFileStore implements Store {
  private readonly data: Record<string, unknown>;

  constructor(readonly path: string) {
    this.data = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
  }

  keys(): readonly string[] {
    return Object.keys(this.data);
  }

  get<T>(key: string): T | undefined {
    const value = this.data[key];
    return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as T);
  }

  update(key: string, value: unknown): Promise<void> {
    if (value === undefined) delete this.data[key];
    else this.data[key] = JSON.parse(JSON.stringify(value)) as unknown;
    writeFileSync(`${this.path}.tmp`, JSON.stringify(this.data));
    renameSync(`${this.path}.tmp`, this.path);
    return Promise.resolve();
  }
}
