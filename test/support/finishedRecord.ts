// A finished task record as the run journal keeps one: completed at `finishedAt` (started 50 ms and
// created 100 ms before), a shell task running `echo <id>` unless `command` says otherwise; `over`
// replaces any field, and `exitCode` or `output` make its result.
import type { TaskRecord } from '../../src/core/model/model';

export function finishedRecord(
  id: string,
  finishedAt: number,
  over: Partial<TaskRecord> & { command?: string; exitCode?: number; output?: string } = {},
): TaskRecord {
  const { command, exitCode, output, ...rest } = over;
  const r: TaskRecord = {
    id,
    name: id,
    kind: 'shell',
    status: 'completed',
    priority: 0,
    attempts: 1,
    createdAt: finishedAt - 100,
    startedAt: finishedAt - 50,
    finishedAt,
    history: [],
    spec: { name: id, kind: 'shell', command: command ?? `echo ${id}` },
    dependsOn: [],
    ...rest,
  };
  if (exitCode !== undefined || output !== undefined) r.result = { exitCode, output };
  return r;
}
