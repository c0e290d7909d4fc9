// Which worker takes a batch: a pluggable choice among the workers able to serve it.
import type { ExecutorSlot } from './executor-slot.js';

/** Picks a worker for a batch of `udfId` among `candidates` (each can serve it and has room), or none. */
export type Balancer = (candidates: readonly ExecutorSlot[], udfId: number) => ExecutorSlot | undefined;

/** The worker with the fewest batches in flight; the first such one on ties. */
export const leastBusy: Balancer = (candidates) => {
  let best: ExecutorSlot | undefined;
  for (const slot of candidates) {
    if (!best || slot.running.size < best.running.size) best = slot;
  }
  return best;
};
