// The queue's checks of what callers hand it: topics, subscription patterns, message ids and numeric
// options. Each check returns (or throws with) a p-queue style message that says what is allowed.
import { fieldError } from '../model/errors';
import { LIMITS } from '../model/limits';

/** Longest topic, pattern, subscription name or message id. */
export const MAX_TOPIC_LENGTH = LIMITS.topicLength;

// Built once: topicProblem runs on every publish, and a template per call is a string per message.
const WANT_PATTERN = `a non-empty string of at most ${MAX_TOPIC_LENGTH} characters, with \`*\` only as a whole segment at the end (\`task.*\`, \`*\`)`;
const WANT_TOPIC = `a non-empty string of at most ${MAX_TOPIC_LENGTH} characters without \`*\``;

/**
 * What is wrong with a topic (or, with `pattern`, a subscription pattern), phrased to follow
 * "Expected `topic` to be"; undefined when nothing is.
 */
export function topicProblem(topic: unknown, pattern: boolean): string | undefined {
  const want = pattern ? WANT_PATTERN : WANT_TOPIC;
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) return want;
  const star = topic.indexOf('*');
  if (star < 0) return undefined;
  if (!pattern) return want;
  const ok = star === topic.length - 1 && (star === 0 || topic[star - 1] === '.');
  return ok ? undefined : want;
}

/** Throws a ValidationError naming `field` unless `topic` is a valid topic (or pattern). */
export function checkTopic(topic: unknown, pattern: boolean, field: string): void {
  const problem = topicProblem(topic, pattern);
  if (problem) throw fieldError(field, problem, topic);
}

export const WANT_ID = `a non-empty string of at most ${MAX_TOPIC_LENGTH} characters not starting with \`@\` (which marks a receipt)`;

/** Ids and receipts share `acknowledge`'s argument: ids never start with `@`, receipts always do. */
export function idProblem(id: unknown): boolean {
  return typeof id !== 'string' || id.length === 0 || id.length > MAX_TOPIC_LENGTH || id.charCodeAt(0) === 64;
}

export function isReceipt(key: string): boolean {
  return key.charCodeAt(0) === 64;
}

export function positiveInteger(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw fieldError(name, 'a positive integer', v);
  return v;
}

export function positiveNumber(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw fieldError(name, 'a positive finite number', v);
  return v;
}

export function nonNegativeNumber(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw fieldError(name, 'a non-negative finite number', v);
  return v;
}

export function optionalFunction<F>(v: unknown, name: string): F | undefined {
  if (v !== undefined && typeof v !== 'function') throw fieldError(name, 'a function', v);
  return v as F | undefined;
}
