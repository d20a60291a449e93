import { spawn, type ChildProcess } from 'node:child_process';

/** The environment variable a forked child reads its JSON config from. */
const CHILD_CONFIG = 'SUPERGRAPH_CHILD_CONFIG';

/** A server started in a child process (see {@link forkServer}): where it listens, and how to stop it. */
export interface ForkedServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `script` (a file that calls {@link serveFromChild}) as a separate
 * Node process with `config`, and resolves once it printed its URL: a second
 * instance for cross-process tests (fan-out, shared limits) on the same
 * database and Redis.
 *
 * @example
 * const other = await forkServer(fileURLToPath(new URL('./testing/child-subgraph.ts', import.meta.url)), { redisUrl });
 * // ... other.url, then await other.stop();
 */
export async function forkServer(
  script: string,
  config: Readonly<Record<string, string>>,
  /** Variables set (or overriding this process's) in the child's environment, e.g. `OTEL_*`. */
  env: Readonly<Record<string, string>> = {},
): Promise<ForkedServer> {
  const child: ChildProcess = spawn(process.execPath, [script], {
    env: { ...process.env, ...env, [CHILD_CONFIG]: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 30 s`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const line = buffer.split('\n').find((candidate) => candidate.startsWith('{"url"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}`));
    });
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * The child's side of {@link forkServer}: reads its config, starts the
 * server, prints `{"url": ...}` on stdout, and stops on SIGTERM or when the
 * parent goes away (stdin closes).
 */
export async function serveFromChild<TConfig>(
  start: (config: TConfig) => Promise<{ url: string; stop(): Promise<void> }>,
): Promise<void> {
  const config = JSON.parse(process.env[CHILD_CONFIG] ?? '{}') as TConfig;
  const running = await start(config);
  process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
  const shutdown = () => void running.stop().finally(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();
}
