// What a message becomes after its last failed delivery: a DeadLetter published to the
// dead-letter topic. Made of the frozen payload and strings only, so it is always JSON.
import type { Message } from './queueTypes';
import type { Entry } from './subscription';

/** Dead-letter payload: the message as last delivered, why it failed, and to whom. */
export interface DeadLetter {
  message: Message;
  error: { name: string; message: string; code?: string };
  subscription: string;
}

/** The dead letter of a copy that has had its deliveries, frozen like a published payload. */
export function deadLetterOf(e: Entry): DeadLetter {
  return Object.freeze({
    message: Object.freeze({ id: e.id, topic: e.topicName, payload: e.payload, publishedAt: e.publishedAt, delivery: e.deliveries }),
    error: Object.freeze(serialiseError(e.lastError)),
    subscription: e.sub.key,
  });
}

/** Strings only, whatever a handler threw. */
function serialiseError(err: unknown): DeadLetter['error'] {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const name = String(err.name);
    const message = String(err.message);
    return typeof code === 'string' ? { name, message, code } : { name, message };
  }
  return { name: 'Error', message: String(err) };
}
