// Batching of synchronous results. An attempt whose work finished inside the call that started it (a
// `function` task's synchronous `run`) is not reported inside that call: its caller must not see the
// outcome under its feet. Such attempts are reported together in the next microtask, in order.
//
// Invariant: each parked item is reported exactly once, in the order parked, in a microtask after the
// one that parked it: the same timing as a microtask each, without a closure each. Items parked while
// a batch is being reported go to the next batch (its own microtask, so other promise callbacks still
// interleave, and a batch never holds more than what finished before it began). A throw from one item
// is rethrown in a microtask of its own, as it would have been, and the others still run. Two arrays
// take turns, so a batch allocates nothing: bench row 1 (the full lifecycle) is the proof that this
// is worth keeping over a queueMicrotask per attempt.

/** What can be parked: reportSoon() is called once, from the batch. */
export interface SoonReport {
  reportSoon(): void;
}

let soon: SoonReport[] = [];
let spare: SoonReport[] = [];

/** Parks `item` for the next batch; schedules the batch if it is the first. */
export function parkForReport(item: SoonReport): void {
  soon.push(item);
  if (soon.length === 1) queueMicrotask(flushSoon);
}

function flushSoon(): void {
  const batch = soon;
  soon = spare;
  for (let i = 0; i < batch.length; i++) {
    try {
      batch[i]!.reportSoon();
    } catch (err) {
      // As a throw inside its own microtask would have been: reported, and the others still run.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
  batch.length = 0;
  spare = batch;
}
