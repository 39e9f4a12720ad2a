// The History view's search box: free text plus `key:value` filters, parsed into the store's query.
// Pure (no 'vscode'), so the unit tests read it as a specification.
//
//   status:failed[,cancelled]   exit:1   workflow:ci   since:2026-11-01   until:2026-11-30
//
// Dates are local calendar days: `since` is that day's first millisecond, `until` its last, so
// `since:D until:D` is the whole day D. Anything that is not a known `key:` is search text.
import { fieldError } from '../../core/model/errors';
import { ALL_STATUSES, type TaskStatus } from '../../core/model/model';
import type { HistoryQuery } from './runHistory';

const KEYS = ['status', 'exit', 'workflow', 'since', 'until'] as const;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The query the text asks for; a ValidationError naming the filter when one is malformed. */
export function parseHistoryFilter(input: string): HistoryQuery {
  const query: HistoryQuery = {};
  const text: string[] = [];
  for (const token of input.trim().split(/\s+/).filter(Boolean)) {
    const colon = token.indexOf(':');
    const key = colon > 0 ? token.slice(0, colon).toLowerCase() : '';
    const value = token.slice(colon + 1);
    if (!(KEYS as readonly string[]).includes(key)) {
      text.push(token);
      continue;
    }
    switch (key as (typeof KEYS)[number]) {
      case 'status': {
        const statuses = value.toLowerCase().split(',').filter(Boolean);
        const bad = statuses.find((s) => !(ALL_STATUSES as readonly string[]).includes(s));
        if (!statuses.length || bad !== undefined) throw fieldError('status', `one or more of ${ALL_STATUSES.join(', ')} (comma-separated)`, bad ?? value);
        query.status = [...new Set([...(query.status ?? []), ...(statuses as TaskStatus[])])];
        break;
      }
      case 'exit': {
        if (!/^-?\d+$/.test(value)) throw fieldError('exit', 'an integer exit code like `exit:1`', value);
        query.exitCode = Number(value);
        break;
      }
      case 'workflow':
        if (!value) throw fieldError('workflow', 'a workflow name like `workflow:ci`', value);
        query.workflow = value;
        break;
      case 'since':
        query.from = dayStart(value, 'since');
        break;
      case 'until':
        query.to = dayStart(value, 'until') + dayLength(value) - 1;
        break;
    }
  }
  if (text.length) query.text = text.join(' ');
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
    throw fieldError('until', `a day on or after \`since\``, input.match(/until:(\S+)/i)?.[1]);
  }
  return query;
}

/** True when the query filters nothing. */
export function isEmptyQuery(query: HistoryQuery): boolean {
  return Object.values(query).every((v) => v === undefined);
}

function dayStart(value: string, key: string): number {
  const m = DATE.exec(value);
  const date = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
  // Date rolls 2026-02-31 over to March: a day that does not exist is refused rather than moved.
  if (!m || !date || date.getFullYear() !== Number(m[1]) || date.getMonth() !== Number(m[2]) - 1 || date.getDate() !== Number(m[3])) {
    throw fieldError(key, 'a date like `2026-11-01` (YYYY-MM-DD)', value);
  }
  return date.getTime();
}

/** A local day is 23 or 25 hours around a daylight-saving change. */
function dayLength(value: string): number {
  const start = dayStart(value, 'until');
  const d = new Date(start);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime() - start;
}
