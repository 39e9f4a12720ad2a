// The second Ctrl-C: every process this CLI started, and everything they started, killed at once
// (SIGKILL, no grace). Every task's shell is a child of this process and leads its own process
// group (shellExecutor.ts), so the children of this process, their groups and their descendants are
// all of it; a process that left its group and was reparented away still carries its task's marker
// and is found by the first Ctrl-C's orderly stop, which this does not replace.
import { scanProcesses, signalAll, treeIn } from '../core/executors/processTree';

export async function killEverythingStarted(): Promise<number> {
  const table = await scanProcesses();
  const victims = new Map<number, string | undefined>();
  for (const child of table.filter((p) => p.ppid === process.pid)) {
    for (const [pid, start] of treeIn(table, { root: child.pid, group: child.pid })) victims.set(pid, start);
  }
  signalAll(victims, 'SIGKILL');
  return victims.size;
}
