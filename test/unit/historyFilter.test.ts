import * as assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/model/errors';
import { isEmptyQuery, parseHistoryFilter } from '../../src/extension/historyView/historyFilter';

describe('historyFilter (the History view search box)', () => {
  it('reads free text and the status, exit, workflow, since and until filters', () => {
    const q = parseHistoryFilter('  npm test status:failed,cancelled exit:1 workflow:ci since:2026-11-01 until:2026-11-02 ');
    assert.deepEqual(q, {
      text: 'npm test',
      status: ['failed', 'cancelled'],
      exitCode: 1,
      workflow: 'ci',
      from: new Date(2026, 10, 1).getTime(),
      to: new Date(2026, 10, 3).getTime() - 1,
    });
  });

  it('treats an unknown key:value as text and an empty input as no filter', () => {
    assert.deepEqual(parseHistoryFilter('http://x foo:bar'), { text: 'http://x foo:bar' });
    assert.ok(isEmptyQuery(parseHistoryFilter('   ')));
    assert.ok(!isEmptyQuery(parseHistoryFilter('exit:0')));
  });

  it('refuses malformed filters, naming the filter and what is allowed', () => {
    const cases: [string, RegExp][] = [
      ['status:broken', /Expected `status` to be one or more of created, .*cancelled.*got `"broken"`/],
      ['exit:one', /Expected `exit` to be an integer exit code/],
      ['since:2026-02-31', /Expected `since` to be a date like `2026-11-01`.*`"2026-02-31"`/],
      ['since:yesterday', /Expected `since`/],
      ['since:2026-11-02 until:2026-11-01', /Expected `until` to be a day on or after `since`/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => parseHistoryFilter(input),
        (err: unknown) => err instanceof ValidationError && message.test(err.message),
        input,
      );
    }
  });
});
