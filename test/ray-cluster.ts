// A real Ray cluster on loopback for the tests: ray.cluster_utils.Cluster in a Python process we start and stop by pid.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isRunning, PYTHON, waitFor } from './processes.js';

/** A Ray cluster of this test file's own on loopback: ray.cluster_utils.Cluster in a Python process we start. */
export interface RayCluster {
  /** `127.0.0.1:<port>` of its head (GCS). */
  readonly address: string;
  /** Every process of every node, as Ray reports them. */
  readonly pids: readonly number[];
  readonly nodeIds: readonly string[];
  /** Adds a node of `cpus` CPUs (and custom `resources`) on this machine. */
  addNode(cpus: number, resources?: Readonly<Record<string, number>>): Promise<void>;
  /** Kills a node other than the head, as a machine that is lost (its processes killed, not drained). */
  removeNode(): Promise<void>;
  /** Stops every node (the cluster is lost); `start()` brings a new one up at the same address. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it all and kills, by pid, whatever of it is still running. */
  close(): Promise<void>;
}

/** Environment that keeps a test's Ray on loopback and without token authentication (nothing else can reach it). */
export const RAY_TEST_ENV: Readonly<Record<string, string>> = { RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER: '0', RAY_AUTH_MODE: 'disabled', RAY_USAGE_STATS_ENABLED: '0' };

const RAY_CLUSTER = String.raw`
import json, os, socket, sys
from ray.cluster_utils import Cluster

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

port = free_port()
cpus = int(sys.argv[1])
cluster = None

def nodes():
    return [cluster.head_node, *cluster.worker_nodes]

def report(**extra):
    pids = sorted(i.process.pid for n in nodes() for infos in n.all_processes.values() for i in infos if i.process)
    print(json.dumps({"address": cluster.address, "pids": pids, "nodes": [n.node_id for n in nodes()], **extra}), flush=True)

def start():
    global cluster
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": cpus, "gcs_server_port": port, "include_dashboard": False, "node_ip_address": "127.0.0.1",
        "ray_client_server_port": free_port(), "object_store_memory": 200 * 1024 * 1024,
    })
    report()

start()
for line in sys.stdin:
    command = line.split()
    if command[0] == "add":
        cluster.add_node(num_cpus=int(command[1]), resources=json.loads(command[2]), node_ip_address="127.0.0.1",
                         object_store_memory=200 * 1024 * 1024)
        cluster.wait_for_nodes()
        report()
    elif command[0] == "remove":
        cluster.remove_node(next(iter(cluster.worker_nodes)), allow_graceful=False)
        report()
    elif command[0] == "stop":
        report(stopping=True)
        cluster.shutdown()
        print(json.dumps({"stopped": True}), flush=True)
    elif command[0] == "start":
        start()
cluster.shutdown()
`;

export async function startRayCluster(cpus: number): Promise<RayCluster> {
  const child = spawn(PYTHON, ['-c', RAY_CLUSTER, String(cpus)], { env: { ...process.env, ...RAY_TEST_ENV }, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => { stderr.push(line); if (stderr.length > 40) stderr.shift(); });
  const replies: Record<string, unknown>[] = [];
  const waiting: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    replies.push(JSON.parse(line) as Record<string, unknown>);
    waiting.shift()?.();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const everPids = new Set<number>();
  const next = async (what: string): Promise<Record<string, unknown>> => {
    if (!replies.length) {
      const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`Ray test cluster: no ${what} within 60 s\n${stderr.join('\n')}`)), 60_000).unref());
      await Promise.race([new Promise<void>((resolve) => waiting.push(resolve)), timer, exited.then(() => { throw new Error(`Ray test cluster exited\n${stderr.join('\n')}`); })]);
    }
    const reply = replies.shift()!;
    for (const pid of (reply['pids'] as number[] | undefined) ?? []) everPids.add(pid);
    return reply;
  };
  let state = await next('start');
  const cluster: RayCluster = {
    get address() { return String(state['address']); },
    get pids() { return state['pids'] as number[]; },
    get nodeIds() { return state['nodes'] as string[]; },
    async addNode(nodeCpus, resources = {}) {
      child.stdin.write(`add ${nodeCpus} ${JSON.stringify(resources)}\n`);
      state = await next('new node');
    },
    async removeNode() {
      child.stdin.write('remove\n');
      state = await next('node removal');
    },
    async stop() {
      child.stdin.write('stop\n');
      await next('stopping');
      await next('stop');
      // What shutdown() left running is killed, as a lost machine would lose it.
      for (const pid of everPids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    },
    async start() {
      child.stdin.write('start\n');
      state = await next('restart');
    },
    async close() {
      child.stdin.end();
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const pid of everPids) {
        if (isRunning(pid)) process.kill(pid, 'SIGKILL');
      }
      await waitFor(() => ![...everPids].some(isRunning), 10_000, 'the Ray test cluster\'s processes to end');
    },
  };
  return cluster;
}
