// A host for the crash test of the process ledger: creates an orchestrator on a JSON-file store,
// starts one shell task and prints `ready` once the task is Running and both the state and the
// ledger are on disk. Then it waits to be killed. Args: <store path> <command> <TEST_MARK value>.
import { PROCESS_LEDGER_KEY } from '../../src/core/executors/processLedger';
import { STATE_KEY } from '../../src/core/state/snapshot';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { JsonFileStore } from './jsonFileStore';

async function main(): Promise<void> {
  const [storePath, command, mark] = process.argv.slice(2);
  const store = new JsonFileStore(storePath);
  const orchestrator = await createOrchestrator({ store });
  const id = await orchestrator.scheduleTask({ name: 'left-behind', kind: 'shell', command, env: { TEST_MARK: mark }, retries: 1 });
  // Both read back from what the store holds: what a SIGKILL cannot take back.
  const check = (): void => {
    const ledger = store.get<{ entries?: unknown[] }>(PROCESS_LEDGER_KEY);
    const state = store.get<{ tasks?: { id: string; status: string }[] }>(STATE_KEY);
    const saved = state?.tasks?.find((t) => t.id === id);
    if (saved?.status === 'running' && (ledger?.entries?.length ?? 0) > 0) process.stdout.write(`ready ${id}\n`);
    else setTimeout(check, 10);
  };
  check();
  // Kept alive by the running task's child process; killed by the test.
}

void main();
