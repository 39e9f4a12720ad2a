// The check of an untrusted queue snapshot (from a store, a file, another version): all of it is
// checked before anything is restored, and a refusal names the field by its path.
import { ValidationError, describeValue } from '../model/errors';
import { frozenJsonCopy, payloadError } from './jsonCopy';
import { MAX_TOPIC_LENGTH, WANT_ID, idProblem, topicProblem } from './queueInput';
import type { QueueSnapshot, QueueSnapshotCounters, QueueSnapshotMessage, QueueSnapshotSubscription } from './queueSnapshot';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fieldError(field: string, want: string, got: unknown): ValidationError {
  return new ValidationError(`Expected \`${field}\` to be ${want}, got ${describeValue(got)}`, field);
}

function count(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw fieldError(field, 'a non-negative integer', v);
  return v;
}

/** Checks an untrusted snapshot completely and returns it typed; throws a ValidationError naming the field. */
export function validateQueueSnapshot(raw: unknown): QueueSnapshot {
  if (!isRecord(raw)) throw fieldError('snapshot', 'an object', raw);
  if (raw.version !== 1) throw fieldError('snapshot.version', '1', raw.version);
  if (!Array.isArray(raw.subscriptions)) throw fieldError('snapshot.subscriptions', 'an array', raw.subscriptions);
  if (!isRecord(raw.counters)) throw fieldError('snapshot.counters', 'an object', raw.counters);
  const names = new Set<string>();
  const subscriptions: QueueSnapshotSubscription[] = raw.subscriptions.map((s: unknown, i: number) => {
    const at = `snapshot.subscriptions[${i}]`;
    if (!isRecord(s)) throw fieldError(at, 'an object', s);
    if (typeof s.name !== 'string' || s.name.length === 0 || s.name.length > MAX_TOPIC_LENGTH) throw fieldError(`${at}.name`, 'a non-empty string', s.name);
    if (names.has(s.name)) throw fieldError(`${at}.name`, 'a name not used by another subscription', s.name);
    names.add(s.name);
    const pp = topicProblem(s.pattern, true);
    if (pp) throw fieldError(`${at}.pattern`, pp, s.pattern);
    if (!Array.isArray(s.messages)) throw fieldError(`${at}.messages`, 'an array', s.messages);
    const messages = s.messages.map((m: unknown, j: number): QueueSnapshotMessage => {
      const mat = `${at}.messages[${j}]`;
      if (!isRecord(m)) throw fieldError(mat, 'an object', m);
      if (idProblem(m.id)) throw fieldError(`${mat}.id`, WANT_ID, m.id);
      const tp = topicProblem(m.topic, false);
      if (tp) throw fieldError(`${mat}.topic`, tp, m.topic);
      if (typeof m.publishedAt !== 'number' || !Number.isFinite(m.publishedAt)) throw fieldError(`${mat}.publishedAt`, 'a finite number', m.publishedAt);
      const deliveries = count(m.deliveries, `${mat}.deliveries`);
      let payload: unknown;
      try {
        payload = frozenJsonCopy(m.payload);
      } catch (err) {
        throw payloadError(err, `${mat}.payload`);
      }
      const out: QueueSnapshotMessage = { id: m.id as string, topic: m.topic as string, publishedAt: m.publishedAt, deliveries };
      if (payload !== undefined) out.payload = payload;
      return out;
    });
    return { name: s.name, pattern: s.pattern as string, messages };
  });
  const counters: Record<string, QueueSnapshotCounters> = {};
  for (const [topic, c] of Object.entries(raw.counters)) {
    const at = `snapshot.counters[${JSON.stringify(topic)}]`;
    const tp = topicProblem(topic, false);
    if (tp) throw new ValidationError(`Expected the topic \`${at}\` to be ${tp}`, at);
    if (!isRecord(c)) throw fieldError(at, 'an object', c);
    counters[topic] = {
      published: count(c.published, `${at}.published`),
      delivered: count(c.delivered, `${at}.delivered`),
      acknowledged: count(c.acknowledged, `${at}.acknowledged`),
      redelivered: count(c.redelivered, `${at}.redelivered`),
      deadLettered: count(c.deadLettered, `${at}.deadLettered`),
      rejected: c.rejected === undefined ? 0 : count(c.rejected, `${at}.rejected`),
    };
  }
  return { version: 1, savedAt: typeof raw.savedAt === 'number' ? raw.savedAt : 0, subscriptions, counters };
}
