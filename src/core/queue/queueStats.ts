// The queue's statistics: per-topic counters live on each TopicState; this module counts acks
// into the rate window and turns the counters into the `QueueStats` the seed's API returns.
import { RATE_WINDOW_S, type TopicState } from './subscription';
import type { QueueStats, TopicStats } from './queueTypes';
import { addCounts, pickCounts, STAT_COUNTS } from './topicCounters';

/**
 * Counts one acknowledgement at `now` (ms) into the topic's ring of per-second counts. Clock times
 * are not negative, so the slot sec % RATE_WINDOW_S is inside both arrays of RATE_WINDOW_S.
 */
export function countAck(t: TopicState, now: number): void {
  const sec = Math.floor(now / 1000);
  if (!t.ackSecond || !t.ackCount) {
    t.ackSecond = new Float64Array(RATE_WINDOW_S).fill(-1);
    t.ackCount = new Uint32Array(RATE_WINDOW_S);
  }
  const i = sec % RATE_WINDOW_S;
  if (t.ackSecond[i] !== sec) {
    t.ackSecond[i] = sec;
    t.ackCount[i] = 0;
  }
  t.ackCount[i]!++;
}

export function emptyStats(): TopicStats {
  return { published: 0, delivered: 0, acknowledged: 0, pending: 0, inFlight: 0, redelivered: 0, deadLettered: 0, rejected: 0, processingRate: 0 };
}

/**
 * Per topic and in total. `processingRate` is the acknowledgements of the last RATE_WINDOW_S whole
 * seconds divided by that window, or by the queue's age in seconds (at least 1) while it is younger.
 */
export function buildQueueStats(topicStates: ReadonlyMap<string, TopicState>, subscribers: number, now: number, startedAt: number): QueueStats {
  const sec = Math.floor(now / 1000);
  const windowS = Math.min(RATE_WINDOW_S, Math.max(1, (now - startedAt) / 1000));
  const totals = emptyStats();
  let totalAcks = 0;
  const topics: Record<string, TopicStats> = {};
  for (const [name, t] of topicStates) {
    let acks = 0;
    if (t.ackSecond && t.ackCount) {
      for (let i = 0; i < RATE_WINDOW_S; i++) if (t.ackSecond[i]! > sec - RATE_WINDOW_S) acks += t.ackCount[i]!;
    }
    const s: TopicStats = { ...pickCounts(t, STAT_COUNTS), processingRate: acks / windowS };
    totalAcks += acks;
    topics[name] = s;
    addCounts(totals, s, STAT_COUNTS);
  }
  totals.processingRate = totalAcks / windowS;
  return { topics, totals, subscribers };
}
