// Transport floor, Node side: a ROUTER set up as pyudf's (ipc:// in a private temp dir, same options)
// and Python DEALERs (baselines/zmq_echo.py) that echo the bytes back untouched.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Router } from 'zeromq';
import { baselinePath } from './config.mjs';
import { startPython, stop } from './procs.mjs';

/** Socket directories of echoes not closed yet: removed when this process exits, however it ends. */
const openDirs = new Set();
process.once('exit', () => {
  for (const dir of openDirs) rmSync(dir, { recursive: true, force: true });
});

export class ZmqEcho {
  constructor(router, dir, ids, children) {
    this.router = router;
    this.dir = dir;
    this.ids = ids;
    this.children = children;
  }

  static async start(peers = 1) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pyudf-bench-zmq-'));
    openDirs.add(dir);
    const endpoint = `ipc://${path.join(dir, 'echo.sock')}`;
    const router = new Router({ mandatory: true, linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 });
    await router.bind(endpoint);
    const ids = Array.from({ length: peers }, (_, i) => `e${i}`);
    const children = ids.map((id) => startPython([baselinePath('zmq_echo.py'), '--endpoint', endpoint, '--id', id]));
    for (let ready = 0; ready < peers; ready++) await router.receive(); // each peer says b"ready"
    return new ZmqEcho(router, dir, ids, children);
  }

  /** One message there and back; resolves with the echoed frames. */
  async roundTrip(frames, id = this.ids[0]) {
    await this.router.send([id, ...frames]);
    const [, ...reply] = await this.router.receive();
    return reply;
  }

  /**
   * Echoes every body with `window` messages in flight per peer (pyudf's maxInFlightPerWorker),
   * spread over the peers; resolves with the echoed bodies in order.
   */
  async pipelined(bodies, window = 2) {
    const inFlight = new Map(this.ids.map((id) => [id, 0]));
    const replies = new Array(bodies.length);
    let next = 0;
    const fill = async () => {
      for (const id of this.ids) {
        while (inFlight.get(id) < window && next < bodies.length) {
          const header = Buffer.alloc(16);
          header.writeUInt32LE(next, 8);
          inFlight.set(id, inFlight.get(id) + 1);
          await this.router.send([id, header, bodies[next++]]);
        }
      }
    };
    await fill();
    for (let done = 0; done < bodies.length; done++) {
      const [id, header, body] = await this.router.receive();
      replies[header.readUInt32LE(8)] = body;
      const key = id.toString('latin1');
      inFlight.set(key, inFlight.get(key) - 1);
      await fill();
    }
    return replies;
  }

  async close() {
    for (const id of this.ids) await this.router.send([id, 'quit']).catch(() => undefined);
    await Promise.all(this.children.map((child) => stop(child)));
    this.router.close();
    await rm(this.dir, { recursive: true, force: true });
    openDirs.delete(this.dir);
  }
}
