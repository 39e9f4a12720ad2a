import type { TaskStatus } from '../model/model';

/**
 * The number of records per status. A switch rather than `counts[status]++`: a keyed access with six
 * different keys goes megamorphic, and it runs twice per transition.
 */
export class StatusCounts {
  private created = 0;
  private scheduled = 0;
  private running = 0;
  private completed = 0;
  private failed = 0;
  private cancelled = 0;

  add(status: TaskStatus, d: number): void {
    switch (status) {
      case 'created':
        this.created += d;
        break;
      case 'scheduled':
        this.scheduled += d;
        break;
      case 'running':
        this.running += d;
        break;
      case 'completed':
        this.completed += d;
        break;
      case 'failed':
        this.failed += d;
        break;
      case 'cancelled':
        this.cancelled += d;
        break;
    }
  }

  of(status: TaskStatus): number {
    switch (status) {
      case 'created':
        return this.created;
      case 'scheduled':
        return this.scheduled;
      case 'running':
        return this.running;
      case 'completed':
        return this.completed;
      case 'failed':
        return this.failed;
      case 'cancelled':
        return this.cancelled;
    }
  }

  toRecord(): Record<TaskStatus, number> {
    return {
      created: this.created,
      scheduled: this.scheduled,
      running: this.running,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
    };
  }
}
