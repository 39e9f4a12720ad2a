// The check of an untrusted queue snapshot (from a store, a file, another version): all of it is
// checked before anything is restored, and a refusal names the field by its path. The field
// checkers are the ones the state's snapshot uses (model/snapshotChecks); the shape is the queue's.
import { fieldError, ValidationError } from '../model/errors';
import { arrayAt, countAt, finiteNumberAt, itemPath, nonEmptyStringAt, objectAt, uniqueAt, versionAt } from '../model/snapshotChecks';
import { frozenJsonCopy, payloadError } from '../model/jsonValue';
import { MAX_TOPIC_LENGTH, WANT_ID, idProblem, topicProblem } from './queueInput';
import type { QueueSnapshot, QueueSnapshotCounters, QueueSnapshotMessage, QueueSnapshotSubscription } from './queueSnapshot';

/** Checks an untrusted snapshot completely and returns it typed, payloads copied and frozen. */
export function validateQueueSnapshot(raw: unknown): QueueSnapshot {
  const snap = objectAt(raw, 'snapshot');
  versionAt(snap.version, 'snapshot.version', 1);
  const rawSubs = arrayAt(snap.subscriptions, 'snapshot.subscriptions');
  const rawCounters = objectAt(snap.counters, 'snapshot.counters');
  const names = new Set<string>();
  const subscriptions = rawSubs.map((s, i) => subscriptionAt(s, itemPath('snapshot.subscriptions', i), names));
  const counters: Record<string, QueueSnapshotCounters> = {};
  for (const [topic, c] of Object.entries(rawCounters)) {
    const at = `snapshot.counters[${JSON.stringify(topic)}]`;
    const tp = topicProblem(topic, false);
    if (tp) throw new ValidationError(`Expected the topic \`${at}\` to be ${tp}`, at);
    counters[topic] = countersAt(c, at);
  }
  return { version: 1, savedAt: typeof snap.savedAt === 'number' ? snap.savedAt : 0, subscriptions, counters };
}

function subscriptionAt(v: unknown, at: string, names: Set<string>): QueueSnapshotSubscription {
  const s = objectAt(v, at);
  const name = nonEmptyStringAt(s.name, `${at}.name`, MAX_TOPIC_LENGTH);
  uniqueAt(names, name, `${at}.name`, 'a name not used by another subscription');
  const pattern = topicAt(s.pattern, `${at}.pattern`, true);
  const messages = arrayAt(s.messages, `${at}.messages`).map((m, j) => messageAt(m, itemPath(`${at}.messages`, j)));
  return { name, pattern, messages };
}

function messageAt(v: unknown, at: string): QueueSnapshotMessage {
  const m = objectAt(v, at);
  if (idProblem(m.id)) throw fieldError(`${at}.id`, WANT_ID, m.id);
  const id = m.id as string;
  const topic = topicAt(m.topic, `${at}.topic`, false);
  const publishedAt = finiteNumberAt(m.publishedAt, `${at}.publishedAt`);
  const deliveries = countAt(m.deliveries, `${at}.deliveries`);
  let payload: unknown;
  try {
    payload = frozenJsonCopy(m.payload);
  } catch (err) {
    throw payloadError(err, `${at}.payload`);
  }
  const out: QueueSnapshotMessage = { id, topic, publishedAt, deliveries };
  if (payload !== undefined) out.payload = payload;
  return out;
}

function countersAt(v: unknown, at: string): QueueSnapshotCounters {
  const c = objectAt(v, at);
  return {
    published: countAt(c.published, `${at}.published`),
    delivered: countAt(c.delivered, `${at}.delivered`),
    acknowledged: countAt(c.acknowledged, `${at}.acknowledged`),
    redelivered: countAt(c.redelivered, `${at}.redelivered`),
    deadLettered: countAt(c.deadLettered, `${at}.deadLettered`),
    // Absent in snapshots written before the bound existed.
    rejected: c.rejected === undefined ? 0 : countAt(c.rejected, `${at}.rejected`),
  };
}

/** A topic (or, with `pattern`, a subscription pattern) at `field`. */
function topicAt(v: unknown, field: string, pattern: boolean): string {
  const problem = topicProblem(v, pattern);
  if (problem) throw fieldError(field, problem, v);
  return v as string;
}
