// A PriorityQueue whose owner keeps the handle of each entry's latest push, as the orchestrator's
// dispatcher keeps one per task (TaskRun.readyNode): the queue tests then say `has(entry)` and
// `remove(entry)`. An entry queued twice has only its latest push's handle kept here.
import { PriorityQueue, type QueueEntry, type QueueNode } from '../../src/core/scheduler/priorityQueue';

export class HandledQueue<T extends QueueEntry> extends PriorityQueue<T> {
  private readonly handles = new Map<T, QueueNode<T>>();

  override push(entry: T): QueueNode<T> {
    const node = super.push(entry);
    this.handles.set(entry, node);
    return node;
  }

  /** By entry (its latest push) or by handle. */
  override has(x: T | QueueNode<T>): boolean {
    return super.has(this.handles.get(x as T) ?? (x as QueueNode<T>));
  }

  /** By entry (its latest push) or by handle. */
  override remove(x: T | QueueNode<T>): T | undefined {
    return super.remove(this.handles.get(x as T) ?? (x as QueueNode<T>));
  }
}
