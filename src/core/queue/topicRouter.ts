// Which subscriptions a topic reaches. Every topic ever published to (or restored) has a
// TopicState; its list of matching subscriptions is computed once and reused until a subscription
// is added or removed (`generation` changes), so routing a publish is O(1) while subscriptions
// stay as they are.
import { matches, TopicState, type Subscription } from './subscription';

export class TopicRouter {
  readonly topics = new Map<string, TopicState>();
  /** Attached subscriptions and detached durable ones (which keep collecting messages). */
  readonly subs = new Set<Subscription>();
  /** Durable subscriptions by name, attached or not. */
  readonly durables = new Map<string, Subscription>();
  /** Bumped whenever `subs` changes or a subscription's pattern may have: cached matches expire. */
  generation = 0;
  private nextSubId = 1;

  newSubscriptionId(): number {
    return this.nextSubId++;
  }

  topicState(topic: string): TopicState {
    let t = this.topics.get(topic);
    if (!t) {
      t = new TopicState();
      this.topics.set(topic, t);
    }
    return t;
  }

  /** The subscriptions a message to `topic` (whose state is `t`) goes to. Do not change the array. */
  matching(t: TopicState, topic: string): Subscription[] {
    if (t.matchGen === this.generation) return t.matches;
    const out: Subscription[] = [];
    for (const s of this.subs) if (matches(s, topic)) out.push(s);
    t.matches = out;
    t.matchGen = this.generation;
    return out;
  }

  add(sub: Subscription): void {
    this.subs.add(sub);
    if (sub.name !== undefined) this.durables.set(sub.name, sub);
    this.generation++;
  }

  remove(sub: Subscription): void {
    this.subs.delete(sub);
    if (sub.name !== undefined && this.durables.get(sub.name) === sub) this.durables.delete(sub.name);
    this.generation++;
  }

  /** Subscriptions with a subscriber attached. */
  attachedCount(): number {
    let n = 0;
    for (const s of this.subs) if (s.handler) n++;
    return n;
  }
}
