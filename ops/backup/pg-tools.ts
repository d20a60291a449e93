import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/**
 * How the backup scripts reach PostgreSQL's own tools (`pg_dump`,
 * `pg_restore`, `psql`): the connection URL without its password (which goes
 * to `PGPASSWORD`, so it never shows in `ps` or in an error message), and the
 * directory of the binaries when they are not on `PATH`.
 */
export interface PgConnection {
  /** The admin URL (`postgres://user:password@host:port/db?sslmode=…`). */
  url: string;
  /** Where `pg_dump`/`pg_restore`/`psql` live (`PG_BIN_DIR`); `PATH` when unset. */
  binDir?: string | undefined;
}

export type PgTool = 'pg_dump' | 'pg_restore' | 'psql';

/** `url` without its password, safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The database name a URL points at (`postgres://…/supergraph` → `supergraph`). */
export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`${redactUrl(url)} names no database`);
  return name;
}

/** `url` pointing at another database of the same server (for `create database`). */
export function urlForDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** The libpq arguments and environment of one tool run: `--dbname` without the password, `PGPASSWORD` beside it. */
function libpq(connection: PgConnection): { dbname: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(connection.url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return {
    dbname: parsed.toString(),
    // Never prompt: a CronJob waiting on a password prompt would hang until its deadline.
    env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}), PGCONNECT_TIMEOUT: '10' },
  };
}

function binary(connection: Pick<PgConnection, 'binDir'>, tool: PgTool): string {
  return connection.binDir ? path.join(connection.binDir, tool) : tool;
}

/** Starts `tool` connected to `connection` (`--dbname` is appended for every tool but `pg_restore --file`). */
export function spawnPgTool(
  connection: PgConnection,
  tool: PgTool,
  args: readonly string[],
  { connect = true }: { connect?: boolean } = {},
): ChildProcess {
  const { dbname, env } = libpq(connection);
  const argv = connect ? [...args, '--no-password', `--dbname=${dbname}`] : [...args];
  return spawn(binary(connection, tool), argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * Waits for a tool to exit; rejects with the tool's own last stderr lines
 * (what PostgreSQL said) when it exits non-zero or cannot be started.
 */
export function waitForExit(
  child: ChildProcess,
  tool: PgTool,
  { collectStdout = true }: { collectStdout?: boolean } = {},
): Promise<{ stdout: string }> {
  let stdout = '';
  let stderr = '';
  // A piped stdout (pg_restore into psql) is not collected: it is the whole dump.
  if (collectStdout) child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4_000)));
  return new Promise((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === 'ENOENT'
            ? `${tool} not found (install postgresql-client matching the server's major version, or set PG_BIN_DIR)`
            : `${tool} could not start: ${error.message}`,
        ),
      );
    });
    child.once('close', (code, signal) => {
      if (code === 0) return resolve({ stdout });
      const said = stderr.trim().split('\n').slice(-5).join('\n  ');
      reject(new Error(`${tool} exited with ${signal ?? `code ${code}`}${said ? `:\n  ${said}` : ''}`));
    });
  });
}

/** `pg_dump (PostgreSQL) 15.20 …`: recorded in the manifest so a restore knows what wrote the archive. */
export async function toolVersion(connection: Pick<PgConnection, 'binDir'>, tool: PgTool): Promise<string> {
  const child = spawn(binary(connection, tool), ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { stdout } = await waitForExit(child, tool);
  return stdout.trim();
}
