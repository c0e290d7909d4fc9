// What the rest of pyudf may use of the local backend: its factory and its stats.
export { createLocalBackend, LocalBackend } from './local-backend.js';
export type { LocalBackendSettings, LocalBackendStats, WorkerStats } from './local-backend.js';
export type { WorkerState } from '../scheduler/executor-slot.js';
export { DEFAULT_SHARED_MEMORY_MIN_BYTES } from '../transport/shared-memory.js';
