import { readFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/**
 * The bench's processes talk over Node's IPC channel: the parent asks, the
 * child answers with the same `id`. One small protocol for both children (the
 * stack and the gateway), so the parent's waiting and polling code is shared.
 */
export interface Ask<TKind extends string = string> {
  id: number;
  kind: TKind;
  tag?: string;
}

/** What the stack child reports when it is up. */
export interface StackReady {
  kind: 'ready';
  /** Subgraph name → GraphQL URL, for the gateway child. */
  subgraphUrls: Record<string, string>;
  /** The run's internal-token signing key (PKCS#8): the gateway signs with it, direct clients too. */
  privateKeyPem: string;
  issuer: string;
  audience: string;
  embedded: { database: boolean; redis: boolean };
}

export interface GatewayReady {
  kind: 'ready';
  url: string;
}

/** The stack child's counters: what must return to 0 between rounds. */
export interface StackStats {
  /** Subscriptions listening on the conversation hub. */
  listeners: number;
  /** Replies generating (waiting at the gate included). */
  generating: number;
  /** Replies of the asked tag whose responder waits for the gate. */
  waiting: number;
  rssBytes: number;
}

export interface GatewayStats {
  openStreams: number;
  upstreamSockets: number;
  rssBytes: number;
}

/** A child started by the bench, with request/answer over IPC. */
export class BenchChild {
  readonly name: string;
  readonly process: ChildProcess;
  readonly #pending = new Map<number, (answer: unknown) => void>();
  #next = 1;
  readonly exited: Promise<number | null>;

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.process = child;
    child.on('message', (message: { id?: number }) => {
      const resolve = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (!resolve || message.id === undefined) return;
      this.#pending.delete(message.id);
      resolve(message);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  /** Sends `kind` and resolves with the child's answer; rejects when the child dies first. */
  ask<T>(kind: string, extra: { tag?: string } = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, (answer) => resolve(answer as T));
      void this.exited.then((code) => reject(new Error(`${this.name} exited (${code}) before answering ${kind}`)));
      this.process.send({ id, kind, ...extra } satisfies Ask);
    });
  }

  /** Asks the child to stop and waits; killed after 20 s. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 20_000);
    this.process.send({ id: 0, kind: 'stop' } satisfies Ask);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Whether `taskset` can pin processes here. */
export function canPin(): boolean {
  return spawnSync('taskset', ['--version']).status === 0;
}

/**
 * Starts `node <script>` (pinned to `core` when taskset exists; taskset execs
 * node, so the pid and IPC channel are node's) and waits for its `ready`.
 */
export async function startChild<TReady>(
  name: string,
  script: string,
  options: { core: number | undefined; nodeArgs?: string[]; env?: Record<string, string> },
): Promise<{ child: BenchChild; ready: TReady }> {
  const nodeArgs = ['--expose-gc', ...(options.nodeArgs ?? []), script];
  const [command, args] =
    options.core === undefined
      ? [process.execPath, nodeArgs]
      : ['taskset', ['-c', String(options.core), process.execPath, ...nodeArgs]];
  const child = new BenchChild(
    name,
    spawn(command, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...options.env },
    }),
  );
  const ready = await new Promise<TReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 180 s`)), 180_000);
    child.process.once('message', (message: TReady) => {
      clearTimeout(timer);
      resolve(message);
    });
    void child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready`));
    });
  });
  return { child, ready };
}

/** In a child: answers each ask with `handle`'s result under the ask's id; `stop` runs `onStop` then exits. */
export function serveAsks(handle: (ask: Ask) => Promise<object> | object, onStop: () => Promise<void>): void {
  process.on('message', (ask: Ask) => {
    if (ask.kind === 'stop') {
      void onStop()
        .catch((error: unknown) => console.error(error))
        .finally(() => process.exit(0));
      return;
    }
    void Promise.resolve()
      .then(() => handle(ask))
      .then(
        (answer) => process.send?.({ id: ask.id, ...answer }),
        (error: unknown) => process.send?.({ id: ask.id, error: String(error) }),
      );
  });
  // The parent went away (Ctrl-C, crash): do not linger with the database open.
  process.on('disconnect', () => void onStop().finally(() => process.exit(0)));
}

/** RSS after two full collections, so an idle-memory delta is the live set, not garbage. */
export function collectedRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().rss;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** User + system CPU of a process (all its threads) so far, ms, from /proc. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Busy time of one core since boot, ms, from /proc/stat. */
export function coreBusyMs(core: number): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith(`cpu${core} `));
  const ticks = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return ((total - idle) * 1000) / CLOCK_TICKS;
}
