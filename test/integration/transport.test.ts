// The pool's ROUTER against a real Python DEALER that is killed: sends to it end (in an error) instead of
// blocking the socket, which would stall every later send and close().
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MAX_RESULT_BYTES } from '../../src/protocol/wire.js';
import { RouterTransport, SEND_TIMEOUT_MS } from '../../src/transport/router.js';
import { PYTHON } from '../helpers.js';

const DEALER = `
import sys, zmq
socket = zmq.Context().socket(zmq.DEALER)
socket.setsockopt(zmq.ROUTING_ID, b"w0")
socket.connect(sys.argv[1])
socket.send(b"hello")
while True:
    socket.recv()
`;

describe('RouterTransport', () => {
  it('ends sends to a worker killed a moment ago, so the socket keeps working', async () => {
    const transport = await RouterTransport.bind(MAX_RESULT_BYTES);
    const child = spawn(PYTHON, ['-c', DEALER, transport.endpoint], { stdio: 'ignore' });
    try {
      let hello!: () => void;
      const connected = new Promise<void>((resolve) => { hello = resolve; });
      const receiving = transport.receiveLoop(() => hello(), () => true);
      await connected;
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      // Without a send timeout the second of these never settled (libzmq, ROUTER_MANDATORY).
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const outcome = await Promise.race([
          transport.send('w0', [Buffer.from('x')]).then(() => 'sent', () => 'failed'),
          new Promise((resolve) => setTimeout(() => resolve('blocked'), 5 * SEND_TIMEOUT_MS)),
        ]);
        expect(outcome, `send ${i}`).not.toBe('blocked');
        expect(performance.now() - started).toBeLessThan(3 * SEND_TIMEOUT_MS);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await transport.close();
      await receiving;
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('drops a peer that sends a frame over the limit (4 GiB + 1 here, which aborted Node) without receiving it', async () => {
    const transport = await RouterTransport.bind(MAX_RESULT_BYTES);
    const received: string[] = [];
    let hello!: () => void;
    const connected = new Promise<void>((resolve) => { hello = resolve; });
    const receiving = transport.receiveLoop((id, frames) => {
      received.push(`${id}:${frames.map((f) => f.byteLength).join(',')}`);
      hello();
    }, () => true);
    // numpy's zeros are pages never touched: the 4 GiB cost no memory to offer.
    const child = spawn(PYTHON, ['-c', `${HUGE}`, transport.endpoint], { stdio: 'ignore' });
    try {
      await connected;
      await transport.send('w0', [Buffer.from('go')]);
      // The peer reconnects and goes on: what it sends after the big frame arrives; the big frame never does.
      const deadline = Date.now() + 10_000;
      while (!received.includes('w0:6')) {
        if (Date.now() > deadline) throw new Error(`nothing after the big frame arrived: ${received.join(' ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(received).toEqual(['w0:5', 'w0:6']);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
      await transport.close();
      await receiving;
    }
  });
});

const HUGE = `
import sys, zmq, numpy as np
socket = zmq.Context().socket(zmq.DEALER)
socket.setsockopt(zmq.ROUTING_ID, b"w0")
socket.connect(sys.argv[1])
socket.send(b"hello")
socket.recv()
socket.send(np.zeros(2**32 + 1, dtype=np.uint8), copy=False)
socket.send(b"after!")
while True:
    socket.recv()
`;
