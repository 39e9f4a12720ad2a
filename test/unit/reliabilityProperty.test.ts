// Seeded property test of issue 11 ("Reliability"): random executor misbehaviour, store faults and
// cancels must never crash the host, hang the orchestrator or lose a task. Each seed is one scenario
// (test/support/reliabilityScenario.ts; its failing ports in chaos.ts, its restore checks in
// reliabilityRestore.ts); a failure names its seed and the steps that led there.
//
//   PROPERTY_SEEDS=500 npx mocha $ONE   more seeds (1..N, and the regression seeds)
//   PROPERTY_SEED=17 PROPERTY_VERBOSE=1 npx mocha $ONE   replay one, with its whole log
// where ONE='--no-config --node-option import=tsx test/unit/reliabilityProperty.test.ts' (with the
// repository's .mocharc, a file named on the command line runs beside every other unit test).
import * as assert from 'node:assert/strict';
import { runScenario } from '../support/reliabilityScenario';

const DEFAULT_SEEDS = 30;
const REPLAY = 'npx mocha --no-config --node-option import=tsx test/unit/reliabilityProperty.test.ts';
/**
 * Seeds beyond the first 30 that once found a defect the first 30 do not reach, kept so it stays
 * fixed. They replay only while the scenario draws the same: a change to the scenario's random steps
 * renumbers them (find new ones with PROPERTY_SEEDS=5000).
 */
const REGRESSION_SEEDS = [
  371, // a cancel asked for just before dispose() was lost: the task ran again after the restart
  812, // the same
  529, // synchronizeState() resolved for a write dispose() gave up on
];

function seeds(): number[] {
  const one = process.env.PROPERTY_SEED;
  if (one !== undefined) return [Number(one)];
  const n = Number(process.env.PROPERTY_SEEDS ?? DEFAULT_SEEDS);
  const first = Array.from({ length: Number.isInteger(n) && n > 0 ? n : DEFAULT_SEEDS }, (_, i) => i + 1);
  return [...first, ...REGRESSION_SEEDS.filter((s) => !first.includes(s))];
}

describe('reliability (seeded property)', () => {
  for (const seed of seeds()) {
    it(`seed ${seed}: no crash, no hang, every task final, slots and pools released, nothing a write held lost`, async function () {
      this.timeout(20_000);
      const report = await runScenario(seed);
      const verbose = process.env.PROPERTY_VERBOSE !== undefined;
      const log = verbose ? report.log : report.log.slice(0, 60);
      assert.deepEqual(
        report.violations,
        [],
        `seed ${seed} (replay: PROPERTY_SEED=${seed} PROPERTY_VERBOSE=1 ${REPLAY})\n` +
          `${report.violations.join('\n')}\n--- steps${verbose ? '' : ' (first 60)'}:\n${log.join('\n')}`,
      );
    });
  }
});
