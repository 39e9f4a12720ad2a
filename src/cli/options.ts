// The values of the CLI's options, parsed from their strings. Each parser returns a checked value or
// throws a UsageError whose one line says what was wrong and what is allowed; the CLI then exits 2
// before anything runs. Pure: no files, no processes.
import { ValidationError } from '../core/model/errors';
import { NAME_PATTERN, nearest, quoteList } from '../core/model/fieldChecks';
import { LIMITS } from '../core/model/limits';
import { validateResourceCapacities } from '../core/model/resourceCapacities';
import { UsageError } from './exitCodes';

const INTEGER = /^\d+$/;

/** `--concurrency N`: tasks running at once; what `0` means is the command's (`zero`, said in the refusal). */
export function parseConcurrency(text: string, zero = 'one per CPU'): number {
  const trimmed = text.trim();
  const value = INTEGER.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(value) || value > LIMITS.concurrency) {
    throw new UsageError(`Expected --concurrency to be an integer from 0 to ${LIMITS.concurrency} (0: ${zero}), got ${JSON.stringify(text)}`);
  }
  return value;
}

/** A non-negative integer option such as `--timeout 5000` or `--retries 2`, at most `max`. */
export function parseCount(option: string, text: string, max: number, unit = ''): number {
  const trimmed = text.trim();
  const value = INTEGER.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(value) || value > max) {
    throw new UsageError(`Expected ${option} to be an integer${unit} from 0 to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** `--resources cpu=2,gpu=1`: pool capacities. An empty string means no pools. */
export function parseResources(text: string): Record<string, number> {
  const pools: Record<string, number> = {};
  const allowed = 'a comma-separated list of name=capacity, like cpu=2,gpu=1 (names: a letter, then letters, digits, _ . -; capacities: integers >= 1)';
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq).trim();
    const count = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (eq < 0 || !NAME_PATTERN.test(name) || !INTEGER.test(count)) {
      throw new UsageError(`Expected --resources to be ${allowed}; ${JSON.stringify(item)} is not`);
    }
    if (name in pools) throw new UsageError(`Expected --resources to name each pool once; \`${name}\` appears twice`);
    pools[name] = Number(count);
  }
  try {
    return validateResourceCapacities(pools, '--resources');
  } catch (err) {
    throw new UsageError(err instanceof ValidationError ? err.message : String(err));
  }
}

export interface ReportOption {
  format: 'junit';
  file: string;
}

const REPORT_FORMATS = ['junit'] as const;

/** `--report junit=FILE`. */
export function parseReport(text: string): ReportOption {
  const eq = text.indexOf('=');
  const format = eq < 0 ? text : text.slice(0, eq);
  const file = eq < 0 ? '' : text.slice(eq + 1);
  if (!(REPORT_FORMATS as readonly string[]).includes(format) || file === '') {
    throw new UsageError(
      `Expected --report to be FORMAT=FILE with FORMAT one of ${quoteList(REPORT_FORMATS)}, like junit=report.xml; got ${JSON.stringify(text)}`,
    );
  }
  return { format: 'junit', file };
}

/** `what` named `name` is not among `known`: the one-line refusal, with the nearest name when one is close. */
export function unknownName(what: string, name: string, known: readonly string[]): UsageError {
  const best = nearest(name, known);
  const hint = best === undefined ? '' : ` (did you mean \`${best}\`?)`;
  const allowed = known.length ? `; known: ${quoteList(known, 20)}` : '';
  return new UsageError(`Unknown ${what} \`${name}\`${hint}${allowed}`);
}

/** The Redis URL: --redis, else ORCHESTRATOR_REDIS_URL. A password is best given in ORCHESTRATOR_REDIS_PASSWORD (a URL shows in `ps`). */
export function redisUrlOf(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const url = flag ?? env.ORCHESTRATOR_REDIS_URL;
  if (url === undefined || url === '')
    throw new UsageError('Expected --redis URL (or ORCHESTRATOR_REDIS_URL), like redis://127.0.0.1:6379 or rediss://host:6380 for TLS');
  if (!/^rediss?:\/\//.test(url)) throw new UsageError(`Expected --redis to be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  return url;
}

export function checkName(option: string, value: string): string {
  if (!NAME_PATTERN.test(value))
    throw new UsageError(`Expected ${option} to be a letter then up to 63 letters, digits, _ . or -, got ${JSON.stringify(value)}`);
  return value;
}
