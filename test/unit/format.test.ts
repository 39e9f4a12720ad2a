import * as assert from 'node:assert/strict';
import { formatDuration } from '../../src/dashboardProtocol/format';

describe('format', () => {
  it('writes a duration with a unit that fits its size, for the Tasks view and the dashboard alike', () => {
    const cases: [number, string][] = [
      [0, '0 ms'],
      [-5, '0 ms'],
      [NaN, '0 ms'],
      [Infinity, '0 ms'],
      [850, '850 ms'],
      [1240, '1.24 s'],
      [12_500, '12.5 s'],
      [125_000, '2m 05s'],
      [3_720_000, '1h 02m'],
    ];
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, `${ms} ms`);
  });
});
