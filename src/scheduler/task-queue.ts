// Batches waiting for a worker: retried batches first (they are the oldest work), then in arrival order.
import type { BatchTask } from '../backend/batch-task.js';

export class TaskQueue {
  private retried: BatchTask[] = [];
  private fresh: BatchTask[] = [];

  get length(): number {
    return this.retried.length + this.fresh.length;
  }

  push(task: BatchTask): void {
    this.fresh.push(task);
  }

  /** Queues a batch whose worker died, behind other retried batches and ahead of fresh ones. */
  pushRetried(task: BatchTask): void {
    this.retried.push(task);
  }

  remove(task: BatchTask): boolean {
    for (const lane of [this.retried, this.fresh]) {
      const index = lane.indexOf(task);
      if (index >= 0) {
        lane.splice(index, 1);
        return true;
      }
    }
    return false;
  }

  /**
   * Takes, in queue order, every task `place` accepts (it returns true once it has placed the task);
   * tasks it refuses keep their places. Settled tasks (cancelled while queued) are dropped.
   */
  takeWhere(place: (task: BatchTask) => boolean): void {
    for (const lane of [this.retried, this.fresh]) {
      for (let i = 0; i < lane.length; i++) {
        const task = lane[i]!;
        if (task.settled || place(task)) lane.splice(i--, 1);
      }
    }
  }
}
