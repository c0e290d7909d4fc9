// What the rest of pyudf may use of the Ray backend: its factory, its options and its stats.
export { createRayBackend, RayBackend } from './ray-backend.js';
export type { ActorStats, RayBackendSettings, RayBackendStats } from './ray-backend.js';
export { validateRayOptions } from './options.js';
export type { RayActorOptions, RayBackendOptions, RaySchedulingStrategy } from './options.js';
