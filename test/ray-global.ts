// Global set-up of the test run: one two-node Ray cluster on loopback that every test parametrised over backends shares.
import type { TestProject } from 'vitest/node';
import { type RayCluster, startRayCluster } from './ray-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `127.0.0.1:<port>` of the run's shared Ray head (test/helpers.ts startPoolOn). */
    rayAddress: string;
  }
}

/**
 * Logical CPUs of each of the shared cluster's two nodes: its pools ask for a quarter CPU per actor, so
 * that a test's pools fit beside actors that a previous test's close() is still ending.
 */
const CPUS_PER_NODE = 2;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster: RayCluster = await startRayCluster(CPUS_PER_NODE);
  try {
    await cluster.addNode(CPUS_PER_NODE);
  } catch (error) {
    await cluster.close();
    throw error;
  }
  project.provide('rayAddress', cluster.address);
  return () => cluster.close();
}
