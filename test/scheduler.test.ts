// The scheduler against in-process fake workers: back-off, unservable work, retries first, timeouts, cancel, drain, instances.
import { tableFromArrays } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolClosedError, PythonError, UdfTimeoutError, UdfUnregisteredError, WorkerCrashedError } from '../src/errors.js';
import type { UdfSpec } from '../src/backend/backend.js';
import type { BatchTask } from '../src/backend/batch-task.js';
import { silentLogger } from '../src/log/logger.js';
import { Scheduler, type SchedulerOptions } from '../src/scheduler/scheduler.js';
import { restartDelayMs } from '../src/scheduler/supervisor.js';
import { type FakeBehaviour, FakeLauncher } from './fakes/fake-launcher.js';

const SPEC: UdfSpec = { name: 'double', module: null, code: 'pass', init: null, apply: 'apply', conf: null };
const input = (...x: number[]) => tableFromArrays({ x: Float64Array.from(x) });
const ys = async (task: BatchTask): Promise<number[]> => [...(await task.result).getChild('y')!.toArray() as Float64Array];
const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

const schedulers: Scheduler[] = [];
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.close()));
});

async function start(behaviour: FakeBehaviour = {}, options: Partial<SchedulerOptions> = {}) {
  const launcher = new FakeLauncher(behaviour);
  const scheduler = new Scheduler(launcher, {
    workers: 2, maxInFlightPerWorker: 2, startTimeoutMs: 1_000, shutdownTimeoutMs: 100, logger: silentLogger, ...options,
  });
  schedulers.push(scheduler);
  await scheduler.start();
  const udfId = await scheduler.register(SPEC);
  const submit = (x: number[], extra: { retries?: number; timeoutMs?: number } = {}) => scheduler.submit({
    udfId, udfName: SPEC.name, input: input(...x), batchIndex: 0, retries: extra.retries ?? 1, timeoutMs: extra.timeoutMs,
  });
  return { launcher, scheduler, udfId, submit };
}

describe('scheduler', { timeout: 5_000 }, () => {
  it('runs batches on the least busy worker that serves the UDF', async () => {
    const { launcher, submit } = await start({ run: () => 'hold' });
    const tasks = [submit([1]), submit([2]), submit([3])];
    expect(launcher.workers.map((w) => w.received.length)).toEqual([2, 1]);
    for (const worker of launcher.workers) while (worker.held.length) worker.answer();
    expect(await Promise.all(tasks.map(ys))).toEqual([[2], [4], [6]]);
  });

  it('bounds the batches per worker and queues the rest', async () => {
    const { launcher, scheduler, submit } = await start({ run: () => 'hold' }, { workers: 1, maxInFlightPerWorker: 1 });
    const [first, second] = [submit([1]), submit([2])];
    expect(scheduler.queued).toBe(1);
    launcher.workers[0]!.answer();
    await first.result;
    expect(scheduler.queued).toBe(0);
    launcher.workers[0]!.answer();
    expect(await ys(second)).toEqual([4]);
  });

  it.each([true, false])('retries the batches of a dead worker on a replacement, ahead of batches queued before (exit seen first: %s)', async (exitFirst) => {
    const { launcher, submit } = await start({ run: () => 'hold', exitFirst }, { workers: 1, maxInFlightPerWorker: 1 });
    const tasks = [submit([1]), submit([2]), submit([3])];
    launcher.workers[0]!.die();
    await tick(5);
    const replacement = launcher.workers[1]!;
    expect(replacement.received.map((t) => t.request.input.getChild('x')!.get(0))).toEqual([1]);
    for (let i = 0; i < 3; i++) {
      await tick();
      replacement.answer();
    }
    expect(await Promise.all(tasks.map(ys))).toEqual([[2], [4], [6]]);
    expect(tasks[0]!.attempts).toBe(2);
  });

  it('fails a batch with WorkerCrashedError once its retries are spent, and never retries a Python error', async () => {
    const pythonError = new PythonError({ pythonType: 'ValueError', pythonMessage: 'bad', traceback: '', frames: [], phase: 'apply', udf: 'double' });
    const { launcher, submit } = await start({ run: (task) => (task.request.input.getChild('x')!.get(0) === 0 ? pythonError : 'hold') });
    const raising = submit([0]);
    await expect(raising.result).rejects.toBe(pythonError);
    expect(raising.attempts).toBe(1);
    const task = submit([1], { retries: 1 });
    for (let attempt = 0; attempt < 2; attempt++) {
      await tick();
      launcher.workers.find((w) => w.held.length)!.die();
    }
    const error = await task.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error).toMatchObject({ attempts: 2, signal: 'SIGKILL' });
  });

  it('backs off exponentially while replacement workers keep failing to start, and resets once one serves', async () => {
    const failures: number[] = [];
    const restartDelay = (n: number) => {
      failures.push(n);
      return n === 0 ? 0 : 5 * 2 ** n;
    };
    const { launcher } = await start({}, { workers: 1, restartDelay, stablePeriodMs: 0 });
    launcher.behaviour = { start: () => 'die' };
    launcher.workers[0]!.die();
    await tick(200);
    expect(failures.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    const gaps = launcher.launchedAt.slice(2).map((at, i) => at - launcher.launchedAt[i + 1]!);
    gaps.slice(0, 3).forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(5 * 2 ** (i + 1) - 1));
    launcher.behaviour = {};
    await tick(250);
    expect(launcher.live).toHaveLength(1);
    launcher.live[0]!.die();
    await tick(20);
    expect(failures.at(-1)).toBe(0);
    expect(restartDelayMs(0)).toBe(0);
    expect([1, 2, 3, 10].map(restartDelayMs)).toEqual([200, 400, 800, 5_000]);
  });

  it('backs off on crashes of serving workers less than the stable period apart, and starts again from zero after it', async () => {
    const failures: number[] = [];
    const restartDelay = (n: number) => {
      failures.push(n);
      return 0;
    };
    const { launcher, submit } = await start({}, { workers: 1, restartDelay, stablePeriodMs: 100 });
    for (let crash = 0; crash < 4; crash++) {
      launcher.live[0]!.die();
      await tick(5);
    }
    await tick(150);
    launcher.live[0]!.die();
    await tick(5);
    launcher.live[0]!.die();
    await tick(5);
    // A batch that succeeds between two crashes shows the workers serve: no loop to back off from.
    expect(await ys(submit([1]))).toEqual([2]);
    launcher.live[0]!.die();
    await tick(5);
    expect(failures).toEqual([0, 1, 2, 3, 0, 1, 0]);
  });

  it('keeps work waiting while workers fail to start for a passing reason, and serves it once one starts', async () => {
    const { launcher, submit } = await start({}, { workers: 1, restartDelay: () => 1 });
    launcher.behaviour = { start: () => 'die' };
    const queued = submit([1]);
    launcher.workers[0]!.die();
    await tick(30);
    expect(launcher.workers.length).toBeGreaterThanOrEqual(5);
    launcher.behaviour = {};
    expect(await ys(queued)).toEqual([2]);
  });

  it('fails queued and new work with the start error once workers fail to start three times in a row for a lasting reason', async () => {
    const { launcher, scheduler, submit } = await start({ run: () => 'hold' }, { workers: 1, restartDelay: () => 1 });
    launcher.behaviour = { start: () => 'die-env' };
    const queued = submit([1]);
    launcher.workers[0]!.die();
    const error = await queued.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/before it was ready/);
    expect(launcher.workers.length).toBeGreaterThanOrEqual(4);
    await expect(submit([2]).result).rejects.toBe(error);
    expect(scheduler.isServing(1)).toBe(false);
  });

  it('fails queued work of a UDF that no worker serves any more', async () => {
    const { launcher, scheduler, udfId, submit } = await start({ run: () => 'hold' }, { workers: 1, maxInFlightPerWorker: 1 });
    const running = submit([1]);
    const queued = submit([2]);
    await scheduler.unregister(udfId);
    await expect(queued.result).rejects.toBeInstanceOf(UdfUnregisteredError);
    launcher.workers[0]!.answer();
    expect(await ys(running)).toEqual([2]);
  });

  it('times a batch out, kills its worker and serves the next batch on the replacement', async () => {
    const { launcher, submit } = await start({ run: (task) => (task.request.timeoutMs ? 'hold' : doubledNow(task)) }, { workers: 1 });
    const slow = submit([1], { timeoutMs: 20 });
    const error = await slow.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UdfTimeoutError);
    expect(error).toMatchObject({ udf: 'double', timeoutMs: 20 });
    expect(launcher.workers[0]!.killed).toBe(true);
    expect(await ys(submit([5]))).toEqual([10]);
    expect(launcher.workers).toHaveLength(2);
  });

  it('kills a worker that does not connect within startTimeoutMs and reports it', async () => {
    const launcher = new FakeLauncher({ start: () => 'never' });
    const scheduler = new Scheduler(launcher, {
      workers: 1, maxInFlightPerWorker: 1, startTimeoutMs: 20, shutdownTimeoutMs: 10, logger: silentLogger,
    });
    schedulers.push(scheduler);
    await expect(scheduler.start()).rejects.toThrow(/did not connect within startTimeoutMs=20/);
    expect(launcher.workers[0]!.killed).toBe(true);
  });

  it('cancels queued batches without sending them, and answers cancelled running ones at once', async () => {
    const { launcher, scheduler, submit } = await start({ run: () => 'hold' }, { workers: 1, maxInFlightPerWorker: 1 });
    const running = submit([1]);
    const queued = submit([2]);
    const reason = new Error('not wanted');
    scheduler.cancel([running, queued], reason);
    await expect(running.result).rejects.toBe(reason);
    await expect(queued.result).rejects.toBe(reason);
    expect(scheduler.queued).toBe(0);
    launcher.workers[0]!.answer(); // the late answer is dropped
    await tick();
    expect(launcher.workers[0]!.received).toHaveLength(1);
    const next = submit([3]);
    launcher.workers[0]!.answer();
    expect(await ys(next)).toEqual([6]);
  });

  it('drains queued and running batches on close(), then stops every worker; later work is refused', async () => {
    const { launcher, scheduler, submit } = await start({ run: () => 'hold' }, { workers: 1, maxInFlightPerWorker: 1 });
    const tasks = [submit([1]), submit([2])];
    const closed = scheduler.close();
    await expect(submit([3]).result).rejects.toBeInstanceOf(PoolClosedError);
    await expect(scheduler.register(SPEC)).rejects.toBeInstanceOf(PoolClosedError);
    await tick();
    expect(launcher.workers[0]!.stoppedGracefully).toBe(false);
    launcher.workers[0]!.answer();
    await tick();
    launcher.workers[0]!.answer();
    await closed;
    expect(await Promise.all(tasks.map(ys))).toEqual([[2], [4]]);
    expect(launcher.workers.every((w) => !w.alive && w.stoppedGracefully)).toBe(true);
  });

  it.each([true, false])('keeps close() waiting for a batch whose worker dies during the drain, and runs it on a replacement (exit seen first: %s)', async (exitFirst) => {
    const { launcher, scheduler, submit } = await start({ run: () => 'hold', exitFirst }, { workers: 1 });
    const task = submit([1]);
    let closed = false;
    const closing = scheduler.close().then(() => { closed = true; });
    launcher.workers[0]!.die();
    await tick(5);
    expect(closed).toBe(false);
    launcher.workers[1]!.answer();
    await closing;
    expect(await ys(task)).toEqual([2]);
    expect(task.attempts).toBe(2);
  });

  it('sends nothing more to a worker that broke the protocol, and fails only the batches it held', async () => {
    const { launcher, submit } = await start({ run: () => 'hold' }, { workers: 1, maxInFlightPerWorker: 1 });
    const held = submit([1]);
    const queued = submit([2]);
    const broken = launcher.workers[0]!;
    const error = new Error('malformed RESULT');
    broken.breakProtocol(error);
    await expect(held.result).rejects.toBe(error);
    await tick();
    expect(broken.received).toHaveLength(1);
    broken.die();
    await tick(5);
    launcher.workers[1]!.answer();
    expect(await ys(queued)).toEqual([4]);
    expect(queued.attempts).toBe(1);
  });

  it('fails a UDF whose batches kill three workers in a row, at once from then on, while another UDF keeps serving', async () => {
    const { launcher, scheduler, udfId: healthy, submit } = await start({
      run: (task, worker) => (task.request.udfName === 'killer' ? (queueMicrotask(() => worker.die()), 'hold') : doubledNow(task)),
    }, { restartDelay: () => 0 });
    const killer = await scheduler.register({ ...SPEC, name: 'killer' });
    const submitTo = (id: number, name: string) => scheduler.submit({ udfId: id, udfName: name, input: input(1), batchIndex: 0, retries: 1, timeoutMs: undefined });
    for (let call = 0; call < 2; call++) {
      expect(await submitTo(killer, 'killer').result.catch((e: unknown) => e)).toBeInstanceOf(WorkerCrashedError);
      expect(await ys(submit([3]))).toEqual([6]);
    }
    const second = await submitTo(killer, 'killer').result.catch((e: unknown) => e);
    expect((second as Error).message).toMatch(/while running UDF "killer" \(3 workers in a row died running it\); its calls now fail at once/);
    const launched = launcher.workers.length;
    await expect(submitTo(killer, 'killer').result).rejects.toBe(second);
    expect(launcher.workers.length).toBe(launched);
    expect(scheduler.isServing(killer)).toBe(false);
    expect(await ys(submit([4]))).toEqual([8]);
    expect(scheduler.isServing(healthy)).toBe(true);
  });

  it('fails a UDF whose init kills every replacement worker, while the others load and serve', async () => {
    let killing = false;
    const { launcher, scheduler, submit } = await start({
      register: (_, spec) => (killing && spec.name === 'bad-init' ? 'die' : undefined),
    }, { workers: 1, restartDelay: () => 0 });
    const bad = await scheduler.register({ ...SPEC, name: 'bad-init' });
    killing = true;
    launcher.workers[0]!.die();
    await tick(30);
    expect(scheduler.isServing(bad)).toBe(false);
    expect(await ys(submit([5]))).toEqual([10]);
    expect(launcher.live[0]!.registered.has(bad)).toBe(false);
  });

  it('waits in register() until a worker ran init when every worker is restarting', async () => {
    const { launcher, scheduler, submit } = await start({ start: (worker) => (worker.id === 'w0' ? 'connect' : 'never') }, { workers: 1, restartDelay: () => 0 });
    launcher.workers[0]!.die();
    await tick(5);
    let registered = false;
    const registering = scheduler.register({ ...SPEC, name: 'late' }).then((id) => { registered = true; return id; });
    await tick(10);
    expect(registered).toBe(false);
    launcher.behaviour = {};
    launcher.workers[1]!.die();
    const id = await registering;
    expect(launcher.live[0]!.registered.has(id)).toBe(true);
    expect(await ys(submit([1]))).toEqual([2]);
  });

  it('rejects a register() waiting for a worker with the PythonError its init raises there', async () => {
    const raised = new PythonError({ pythonType: 'RuntimeError', pythonMessage: 'no', traceback: '', frames: [], phase: 'init', udf: 'late' });
    const { launcher, scheduler } = await start({ start: (worker) => (worker.id === 'w0' ? 'connect' : 'never') }, { workers: 1, restartDelay: () => 0 });
    launcher.workers[0]!.die();
    await tick(5);
    const registering = scheduler.register({ ...SPEC, name: 'late' });
    launcher.behaviour = { register: (_, spec) => (spec.name === 'late' ? raised : undefined) };
    launcher.workers[1]!.die();
    await expect(registering).rejects.toBe(raised);
  });

  it('resolves register() when a worker dies during it but another loaded the UDF', async () => {
    const { launcher, scheduler, submit } = await start({ register: (_, spec, worker) => (spec.name === 'other' && worker.id === 'w0' ? 'die' : undefined) });
    const id = await scheduler.register({ ...SPEC, name: 'other' });
    expect(launcher.workers[1]!.registered.has(id)).toBe(true);
    expect(await ys(submit([2]))).toEqual([4]);
  });

  it('loads every registered UDF on a replacement worker before it serves', async () => {
    const { launcher, scheduler, udfId, submit } = await start({}, { workers: 1 });
    const second = await scheduler.register({ ...SPEC, name: 'other' });
    launcher.workers[0]!.die();
    expect(await ys(submit([4]))).toEqual([8]);
    expect([...launcher.workers[1]!.registered].sort()).toEqual([udfId, second]);
    expect(scheduler.restarts).toBe(1);
  });

  it('rejects register() with the error of a worker that fails it, leaving the UDF nowhere', async () => {
    const failure = new PythonError({ pythonType: 'RuntimeError', pythonMessage: 'no', traceback: '', frames: [], phase: 'init', udf: 'bad' });
    const { launcher, scheduler } = await start({ register: (_, spec, worker) => (spec.name === 'bad' && worker.id === 'w1' ? failure : undefined) });
    await expect(scheduler.register({ ...SPEC, name: 'bad' })).rejects.toBe(failure);
    expect(launcher.workers.map((w) => w.registered.size)).toEqual([1, 1]);
  });
});

describe('scheduler: instances per UDF', { timeout: 5_000 }, () => {
  const holders = (launcher: FakeLauncher, udfId: number) => launcher.live.filter((w) => w.registered.has(udfId)).map((w) => w.id);
  const submitTo = (scheduler: Scheduler, udfId: number, name: string) => scheduler.submit({
    udfId, udfName: name, input: input(1), batchIndex: 0, retries: 1, timeoutMs: undefined,
  });
  const sentTo = (launcher: FakeLauncher, udfId: number) => launcher.workers.map((w) => w.received.filter((t) => t.request.udfId === udfId).length);

  it('loads a UDF on its instances only, the workers with the fewest UDFs first (ties by launch order), and sends its batches only there', async () => {
    const { launcher, scheduler, udfId: everywhere } = await start({}, { workers: 3, maxInFlightPerWorker: 100 });
    const one = await scheduler.register({ ...SPEC, name: 'one', instances: 1 });
    const two = await scheduler.register({ ...SPEC, name: 'two', instances: 2 });
    const third = await scheduler.register({ ...SPEC, name: 'third', instances: 1 });
    expect(holders(launcher, everywhere)).toEqual(['w0', 'w1', 'w2']);
    expect(holders(launcher, one)).toEqual(['w0']);
    expect(holders(launcher, two)).toEqual(['w1', 'w2']);
    expect(holders(launcher, third)).toEqual(['w0']);
    expect(scheduler.workers.map((slot) => [...slot.udfs])).toEqual([[everywhere, one, third], [everywhere, two], [everywhere, two]]);
    const tasks = Array.from({ length: 20 }, () => [submitTo(scheduler, one, 'one'), submitTo(scheduler, two, 'two')]).flat();
    expect((await Promise.all(tasks.map(ys))).flat()).toEqual(Array(40).fill(2));
    expect(sentTo(launcher, one)).toEqual([20, 0, 0]);
    expect(sentTo(launcher, two)).toEqual([0, 10, 10]);
  });

  it('takes instances of at least the pool size as every worker, replacements included', async () => {
    const { launcher, scheduler } = await start({}, { workers: 2, restartDelay: () => 0 });
    const more = await scheduler.register({ ...SPEC, name: 'more', instances: 5 });
    const exact = await scheduler.register({ ...SPEC, name: 'exact', instances: 2 });
    expect(holders(launcher, more)).toEqual(['w0', 'w1']);
    expect(holders(launcher, exact)).toEqual(['w0', 'w1']);
    launcher.workers[0]!.die();
    await tick(5);
    expect(holders(launcher, more)).toEqual(['w1', 'w2']);
    expect(holders(launcher, exact)).toEqual(['w1', 'w2']);
  });

  it('keeps the batches of a UDF whose only holder died queued, and serves them once its replacement loaded it', async () => {
    const { launcher, scheduler } = await start({}, { workers: 3, restartDelay: () => 20 });
    const one = await scheduler.register({ ...SPEC, name: 'one', instances: 1 });
    expect(scheduler.isServing(one)).toBe(true);
    launcher.workers[0]!.die();
    await tick();
    expect(scheduler.isServing(one)).toBe(false);
    const waiting = submitTo(scheduler, one, 'one');
    await tick(5);
    expect(waiting.settled).toBe(false);
    expect(scheduler.queued).toBe(1);
    expect(await ys(waiting)).toEqual([2]);
    expect(holders(launcher, one)).toEqual(['w3']);
    expect(sentTo(launcher, one)).toEqual([0, 0, 0, 1]);
    expect(scheduler.isServing(one)).toBe(true);
  });

  it('gives the last place of a UDF to one of two replacements starting together, and none to a non-holder\'s replacement', async () => {
    const { launcher, scheduler, udfId: everywhere } = await start({}, { workers: 3, restartDelay: () => 0 });
    const one = await scheduler.register({ ...SPEC, name: 'one', instances: 1 });
    const two = await scheduler.register({ ...SPEC, name: 'two', instances: 2 });
    expect([holders(launcher, one), holders(launcher, two)]).toEqual([['w0'], ['w1', 'w2']]);
    // Both replacements load `everywhere` first (slowly): the one that claimed `one` is still loading when the other looks.
    launcher.behaviour = { registerDelayMs: 5 };
    launcher.workers[0]!.die();
    launcher.workers[1]!.die();
    await tick(40);
    expect(launcher.live.map((w) => w.id)).toEqual(['w2', 'w3', 'w4']);
    expect(holders(launcher, everywhere)).toEqual(['w2', 'w3', 'w4']);
    expect(holders(launcher, one)).toHaveLength(1);
    expect(holders(launcher, two)).toHaveLength(2);
    const oneHolder = holders(launcher, one)[0];
    const other = launcher.live.find((w) => w.id !== 'w2' && w.id !== oneHolder)!;
    other.die();
    await tick(40);
    expect(holders(launcher, one)).toEqual([oneHolder]);
    expect(holders(launcher, two)).toHaveLength(2);
    expect(await ys(submitTo(scheduler, one, 'one'))).toEqual([2]);
  });

  it('unloads a UDF from its holders only', async () => {
    const { launcher, scheduler } = await start({}, { workers: 3 });
    const two = await scheduler.register({ ...SPEC, name: 'two', instances: 2 });
    await scheduler.unregister(two);
    expect(launcher.workers.map((w) => w.unregistered)).toEqual([[two], [two], []]);
    expect(scheduler.isServing(two)).toBe(false);
  });

  it('rejects register() with the PythonError of one of its instances, leaving the UDF nowhere', async () => {
    const failure = new PythonError({ pythonType: 'RuntimeError', pythonMessage: 'no', traceback: '', frames: [], phase: 'init', udf: 'bad' });
    const { launcher, scheduler } = await start({ register: (_, spec, worker) => (spec.name === 'bad' && worker.id === 'w1' ? failure : undefined) }, { workers: 3 });
    await expect(scheduler.register({ ...SPEC, name: 'bad', instances: 2 })).rejects.toBe(failure);
    expect(launcher.workers.map((w) => w.registered.size)).toEqual([1, 1, 1]);
    expect(launcher.workers.map((w) => w.unregistered.length)).toEqual([1, 0, 0]);
  });
});

function doubledNow(task: BatchTask) {
  const x = task.request.input.getChild('x')!.toArray() as Float64Array;
  return tableFromArrays({ y: x.map((v) => v * 2) });
}
