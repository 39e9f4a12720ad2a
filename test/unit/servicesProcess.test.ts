import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { gone } from '../support/processChecks';
import { freePort } from '../support/freePort';

// Real shell services: readiness from a line of output, and stopWhen stopping the whole process tree.
(process.platform === 'win32' ? describe.skip : describe)('services: real shell processes', () => {
  let dir: string;
  let o: OrchestratorImpl | undefined;
  const pids: number[] = [];
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'orch-services-')));
  });
  afterEach(async () => {
    await o?.dispose();
    o = undefined;
    for (const pid of pids.splice(0)) if (!gone(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the dependent on the ready line, then stops the service and its children once it is done', async () => {
    o = await createOrchestrator({ killGraceMs: 500 });
    const pidFile = join(dir, 'child.pid');
    let childAlive: boolean | undefined;
    const [server, smoke] = await o.scheduleWorkflow([
      {
        key: 'server',
        name: 'server',
        kind: 'shell',
        // A child that would outlive its shell unless the tree is stopped; then the ready line.
        command: `sleep 30 & echo $! > '${pidFile}'; echo 'booting'; echo 'listening on 3000'; wait`,
        readyWhen: { output: 'listening on \\d+' },
        readyTimeoutMs: 10_000,
        stopWhen: 'dependentsDone',
      },
      {
        key: 'smoke',
        name: 'smoke',
        kind: 'function',
        dependsOn: ['server'],
        run: () => {
          const pid = Number(readFileSync(pidFile, 'utf8'));
          pids.push(pid);
          childAlive = !gone(pid);
        },
      },
    ]);
    await o.whenIdle();
    assert.equal(childAlive, true, 'the dependent ran while the service was up');
    assert.equal(o.getTask(smoke)?.status, 'completed');
    const s = o.getTask(server);
    assert.equal(s?.status, 'completed');
    assert.equal(s?.history.at(-1)?.reason, 'Stopped: every dependent finished');
    assert.ok(
      pids.every((pid) => gone(pid)),
      'the service child is gone',
    );
  });

  it('becomes Ready when its HTTP endpoint answers 2xx, serves its dependent, and is stopped after it', async () => {
    o = await createOrchestrator({ killGraceMs: 500 });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/health`;
    const server = `require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`;
    let answered: string | undefined;
    const [service, smoke] = await o.scheduleWorkflow([
      {
        key: 'web',
        name: 'web',
        kind: 'shell',
        command: `'${process.execPath}' -e "${server}"`,
        readyWhen: { http: url },
        readyTimeoutMs: 10_000,
        stopWhen: 'dependentsDone',
      },
      { key: 'smoke', name: 'smoke', kind: 'function', dependsOn: ['web'], run: async () => void (answered = await (await fetch(url)).text()) },
    ]);
    await o.whenIdle();
    assert.equal(answered, 'ok');
    assert.equal(o.getTask(smoke)?.status, 'completed');
    assert.equal(o.getTask(service)?.status, 'completed');
    await assert.rejects(fetch(url), 'the server is stopped');
  });

  it('fails a service that exits before its ready line and cancels its dependents', async () => {
    o = await createOrchestrator();
    let ran = false;
    const [server, smoke] = await o.scheduleWorkflow([
      { key: 'server', name: 'server', kind: 'shell', command: "echo 'port in use' >&2; exit 3", readyWhen: { output: 'listening' } },
      { key: 'smoke', name: 'smoke', kind: 'function', dependsOn: ['server'], run: () => void (ran = true) },
    ]);
    await o.whenIdle();
    assert.equal(o.getTask(server)?.status, 'failed');
    assert.equal(o.getTask(smoke)?.status, 'cancelled');
    assert.equal(ran, false);
  });
});
