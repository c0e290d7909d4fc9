// What the rest of pyudf may use of the local backend: its factory and its stats; and the worker protocol's pool half, which other backends share.
export { createLocalBackend, LocalBackend } from './local-backend.js';
export type { LocalBackendSettings, LocalBackendStats, WorkerStats } from './local-backend.js';
export type { WorkerState } from '../scheduler/executor-slot.js';
export { DEFAULT_SHARED_MEMORY_MIN_BYTES } from '../transport/shared-memory.js';
export { WorkerPeer } from './worker-peer.js';
export type { WorkerLink, WorkerPeerOptions } from './worker-peer.js';
export { PeerSocket } from './peer-socket.js';
export type { SocketPeer } from './peer-socket.js';
