// A two-task workflow around a service on a port, for the fleet's readiness tests: `svc` runs a Node
// script (its source written to `dir`) with the port and `arg`, is Ready once the port accepts a
// connection and is stopped once its dependent is done; `dep` appends `dep` to `trace`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskSpec } from '../../src/core/model/model';

export function portServiceWorkflow(dir: string, serverJs: string, port: number, arg: string, readyTimeoutMs: number): { specs: TaskSpec[]; trace: string } {
  const script = join(dir, 'server.js');
  const trace = join(dir, 'trace');
  writeFileSync(script, serverJs);
  const specs: TaskSpec[] = [
    {
      key: 'svc',
      name: 'svc',
      kind: 'shell',
      command: `exec '${process.execPath}' '${script}' ${port} '${arg}'`,
      readyWhen: { port },
      readyTimeoutMs,
      stopWhen: 'dependentsDone',
    },
    { key: 'dep', name: 'dep', kind: 'shell', command: `echo dep >> '${trace}'`, dependsOn: ['svc'] },
  ];
  return { specs, trace };
}
