import { spawn, type ChildProcess } from 'node:child_process';
import { repoPath } from '@supergraph/platform';

/** The last this many characters of a process's output are kept, for the message of a failed start or test. */
const OUTPUT_KEPT = 20_000;

/** One service started as its own `node` process, as in production service mode. */
export interface ServiceProcess {
  /** `auth-1`, `gateway-2`, …: what its log lines and errors are labelled with. */
  readonly label: string;
  /** Where it serves GraphQL (`http://127.0.0.1:<port>/graphql`), from its own "listening on" line. */
  readonly url: string;
  readonly pid: number;
  /** Whether the process has exited (by itself, by {@link ServiceProcess.kill} or by {@link ServiceProcess.stop}). */
  hasExited(): boolean;
  /** What it printed on stdout and stderr (the tail). */
  output(): string;
  /** SIGKILL: no draining, no goodbye, as when a machine dies; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (the service drains), SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartServiceOptions {
  label: string;
  /** The entry point: absolute, or relative to the repository root (`gateway/src/main.ts`). */
  script: string;
  /** The whole environment of the process (nothing of the caller's leaks in but what is given). */
  env: NodeJS.ProcessEnv;
  /** Each output line as it arrives (`npm run start:cluster` prints them with the label). */
  onLine?: (line: string) => void;
  /** How long to wait for the "listening on" line; generous, since a dozen processes start on few cores. */
  startTimeoutMs?: number;
}

/**
 * Starts `node <script>` with exactly `env` and resolves once it logs
 * `listening on <url>` (every subgraph's runner and the gateway's main do), so
 * the caller learns the port a `<NAME>_PORT=0` picked. A process that exits
 * first, or stays silent past the timeout, rejects with its output.
 */
export function startServiceProcess(options: StartServiceOptions): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, [repoPath(options.script)], {
    cwd: repoPath(),
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-OUTPUT_KEPT);
    if (!options.onLine) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onLine(line);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;

  const signal = async (name: NodeJS.Signals, graceMs: number) => {
    if (hasExited()) return;
    child.kill(name);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  const timeoutMs = options.startTimeoutMs ?? 90_000;
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      clearTimeout(timer);
      child.stdout?.off('data', watch);
      child.kill('SIGKILL');
      reject(new Error(`${options.label} ${reason}:\n${output}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs / 1000} s`), timeoutMs);
    const watch = () => {
      const listening = /listening on (http:\/\/\S+)/.exec(output);
      if (!listening) return;
      clearTimeout(timer);
      child.stdout?.off('data', watch);
      child.off('exit', onEarlyExit);
      resolve({
        label: options.label,
        url: listening[1]!,
        pid: child.pid!,
        hasExited,
        output: () => output,
        kill: () => signal('SIGKILL', 0),
        stop: (graceMs = 10_000) => signal('SIGTERM', graceMs),
      });
    };
    const onEarlyExit = (code: number | null, signalName: NodeJS.Signals | null) =>
      fail(`exited (${signalName ?? code}) before listening`);
    child.stdout?.on('data', watch);
    child.once('exit', onEarlyExit);
  });
}
