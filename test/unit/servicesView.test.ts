// The texts of the dashboard's Services section (src/webview/servicesView.ts) and the running count
// with its Ready share; the DOM around them is covered by the end-to-end dashboard test.
import * as assert from 'node:assert/strict';
import { formatReadyFor, readyCount, runningText, serviceCells } from '../../src/webview/servicesView';
import { services } from '../support/dashboardFixtures';

describe('servicesView', () => {
  it('says how long a service has been Ready in seconds, then minutes, then hours', () => {
    assert.equal(formatReadyFor(0), 'ready for 0 s');
    assert.equal(formatReadyFor(12_400), 'ready for 12 s');
    assert.equal(formatReadyFor(2 * 60_000 + 5_000), 'ready for 2 min');
    assert.equal(formatReadyFor(3 * 3_600_000), 'ready for 3 h');
    assert.equal(formatReadyFor(-50), 'ready for 0 s', "the host's clock moved back: never a negative age");
  });

  it('shows a Ready service with its age, restarts and problems, and a starting one with what it waits for', () => {
    const [api, db] = services();
    assert.deepEqual(serviceCells(api!, 1_000_000 + 125_000), {
      name: 'api server',
      badge: 'Ready',
      detail: 'ready for 2 min',
      restarts: 'restarted 2×',
      problems: '1 error',
    });
    assert.deepEqual(serviceCells(db!, 1_000_000), {
      name: 'db',
      badge: 'starting…',
      detail: 'waits for port 127.0.0.1:5432',
      restarts: '',
      problems: '',
    });
    const bare = { id: 'w', name: 'watch', state: 'starting', restarts: 1 } as const;
    assert.equal(serviceCells(bare, 0).detail, '', 'nothing to say what it waits for');
    assert.equal(serviceCells(bare, 0).restarts, 'restarted 1×');
  });

  it('counts problems as the Tasks view does: errors first, warnings when there are some', () => {
    const row = (errors: number, warnings: number) => serviceCells({ ...services()[0]!, problems: { errors, warnings } }, 1_000_000).problems;
    assert.equal(row(0, 0), '0 errors');
    assert.equal(row(1, 0), '1 error');
    assert.equal(row(3, 1), '3 errors, 1 warning');
    assert.equal(row(0, 2), '0 errors, 2 warnings');
  });

  it('adds the Ready ones to the running count only when there are some', () => {
    assert.equal(readyCount(services()), 1);
    assert.equal(readyCount([]), 0);
    assert.equal(runningText(3, 1), '3 running (1 ready)');
    assert.equal(runningText(3, 0), '3 running');
    assert.equal(runningText(1234, 2), '1,234 running (2 ready)');
  });
});
