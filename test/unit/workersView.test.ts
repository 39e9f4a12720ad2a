// The texts of the dashboard's Workers section (src/webview/workersView.ts); the DOM around them is
// covered by the end-to-end dashboard test.
import * as assert from 'node:assert/strict';
import { fleetSummary, formatHeartbeat, workerCells } from '../../src/webview/workersView';
import { fleet } from '../support/dashboardFixtures';

describe('workersView', () => {
  it('says how old a heartbeat is in seconds, then minutes, then hours', () => {
    assert.equal(formatHeartbeat(0), '0 s ago');
    assert.equal(formatHeartbeat(2400), '2 s ago');
    assert.equal(formatHeartbeat(59_999), '59 s ago');
    assert.equal(formatHeartbeat(60_000), '1 min ago');
    assert.equal(formatHeartbeat(3 * 3_600_000 + 5), '3 h ago');
    assert.equal(formatHeartbeat(-50), '0 s ago');
  });

  it('shows each worker with its pools, its load as running / concurrency, and whether it drains', () => {
    const [build, gpu] = fleet().workers;
    assert.deepEqual(workerCells(build!), { name: 'build-1', pools: 'cpu × 8', load: '2 / 4', heartbeat: '1 s ago', state: 'busy' });
    assert.deepEqual(workerCells(gpu!), { name: 'gpu-1', pools: 'cpu × 4, gpu × 1', load: '0 / 2', heartbeat: '0 s ago', state: 'draining' });
    assert.equal(workerCells({ ...build!, pools: {}, running: 0 }).pools, 'none');
    assert.equal(workerCells({ ...build!, pools: {}, running: 0 }).state, 'idle');
  });

  it('sums the fleet up, or says it is not connected and to what', () => {
    assert.equal(fleetSummary(fleet()), '2 workers · 2 of 6 slots busy · redis://127.0.0.1:6379');
    assert.equal(fleetSummary(fleet({ connected: false, workers: [], queues: [] })), 'Not connected to redis://127.0.0.1:6379');
  });
});
