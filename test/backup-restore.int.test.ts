import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateAll, quoteIdent, type TestDatabase } from '@supergraph/db';
import { repoPath } from '@supergraph/platform';
import { SUBGRAPHS } from '@supergraph/registry';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackupEnv } from '../ops/backup/env.ts';
import { readManifest, writeManifest } from '../ops/backup/manifest.ts';
import { applyRetention, backupName, selectExpired } from '../ops/backup/retention.ts';
import { startChatStack, type ChatStack } from './e2e/chat-stack.ts';
import { LOGIN } from './e2e/harness.ts';

/**
 * Backups that restore (issue 12): `npm run backup` of a database populated
 * through the real services, the database dropped, `npm run restore` into it,
 * every table's row count and checksum compared, and the restored graph
 * serving a login and a search. Needs PostgreSQL (pg_dump, roles); without
 * DATABASE_URL only retention and configuration errors run.
 */
const specs = SUBGRAPHS.map((subgraph) => subgraph.database);
const SCHEMAS = specs.flatMap((spec) => spec.schemas.map(({ schema }) => schema));
const DAY = 24 * 60 * 60 * 1000;

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node ops/backup/<script>.ts` as an operator would, with only the variables given (plus PATH). */
function runScript(script: 'backup' | 'restore', args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [repoPath('ops', 'backup', `${script}.ts`), ...args],
      { cwd: repoPath(), env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A fake complete backup (a manifest is what makes it one to retention). */
async function fakeBackup(directory: string, startedAt: Date, { complete = true } = {}): Promise<string> {
  const name = backupName(startedAt);
  await fs.mkdir(path.join(directory, name), { recursive: true });
  if (complete) await fs.writeFile(path.join(directory, name, 'manifest.json'), '{}');
  return name;
}

describe('backup retention', () => {
  let directory: string;
  const now = new Date('2026-12-03T12:00:00.000Z');

  beforeAll(async () => {
    directory = await fs.mkdtemp(path.join(os.tmpdir(), 'supergraph-retention-'));
  });
  afterAll(async () => {
    await fs.rm(directory, { recursive: true, force: true });
  });

  it('keeps the newest BACKUP_KEEP_COUNT and none older than BACKUP_KEEP_DAYS, leaving other directories alone', async () => {
    // Ten daily backups (0.5 … 9.5 days old) and one from 40 days ago.
    const daily = await Promise.all(
      Array.from({ length: 10 }, (_, day) => fakeBackup(directory, new Date(now.getTime() - (day + 0.5) * DAY))),
    );
    const ancient = await fakeBackup(directory, new Date(now.getTime() - 40 * DAY));
    const incomplete = await fakeBackup(directory, new Date(now.getTime() - 50 * DAY), { complete: false });
    await fs.mkdir(path.join(directory, 'notes'));
    const killed = `${backupName(new Date(now.getTime() - 2 * DAY))}.partial`;
    const running = `${backupName(new Date(now.getTime() - 60 * 60 * 1000))}.partial`;
    await fs.mkdir(path.join(directory, killed));
    await fs.mkdir(path.join(directory, running));

    // By count: the newest 7 stay.
    const byCount = await applyRetention(directory, { keepCount: 7, keepDays: 30 }, now);
    expect(byCount.sort()).toEqual([...daily.slice(7), ancient, killed].sort());
    // By age: of those 7, the ones older than 4 days go.
    const byAge = await applyRetention(directory, { keepCount: 7, keepDays: 4 }, now);
    expect(byAge.sort()).toEqual(daily.slice(4, 7).sort());

    const left = (await fs.readdir(directory)).sort();
    expect(left).toEqual([...daily.slice(0, 4), incomplete, 'notes', running].sort());
  });

  it('never removes the newest backup, however old', () => {
    const only = { name: 'old', startedAt: new Date(now.getTime() - 400 * DAY) };
    const older = { name: 'older', startedAt: new Date(now.getTime() - 500 * DAY) };
    expect(selectExpired([older, only], { keepCount: 5, keepDays: 30 }, now)).toEqual([older]);
  });
});

describe('backup configuration', () => {
  it('refuses a DATABASE_URL that is no postgres:// URL and a bad retention, all at once', async () => {
    const run = await runScript('backup', [], { DATABASE_URL: 'not a url', BACKUP_KEEP_COUNT: '0' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('DATABASE_URL: must be a postgres:// URL');
    expect(run.stderr).toContain('BACKUP_KEEP_COUNT');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the server it cannot reach, without the password, and leaves no directory behind', async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'supergraph-backup-'));
    try {
      const run = await runScript('backup', [], {
        DATABASE_URL: 'postgres://admin:s3cret-pass@127.0.0.1:1/supergraph',
        BACKUP_DIR: directory,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('[backup] failed: cannot connect to postgres://admin:***@127.0.0.1:1/supergraph');
      expect(run.stderr).toContain('ECONNREFUSED');
      expect(run.stderr).not.toContain('s3cret-pass');
      expect(await fs.readdir(directory)).toEqual([]);
    } finally {
      await fs.rm(directory, { recursive: true, force: true });
    }
  });

  it('refuses a production DATABASE_URL without TLS unless DATABASE_TLS=disable', () => {
    const base = { NODE_ENV: 'production', DATABASE_URL: 'postgres://admin@db.internal:5432/supergraph' };
    expect(() => loadBackupEnv(specs, base)).toThrow(/DATABASE_URL: must use TLS in production/);
    expect(loadBackupEnv(specs, { ...base, DATABASE_TLS: 'disable' }).DATABASE_URL).toBe(base.DATABASE_URL);
    expect(loadBackupEnv(specs, { ...base, DATABASE_URL: `${base.DATABASE_URL}?sslmode=verify-full` })).toBeTruthy();
  });
});

/** Every table of every registered schema: row count and md5 of its rows in text order (the test's own oracle). */
async function fingerprint(url: string): Promise<Record<string, { rows: number; checksum: string }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ schema: string; table: string }>(
      `select table_schema as schema, table_name as table from information_schema.tables
        where table_schema = any($1::text[]) and table_type = 'BASE TABLE' order by 1, 2`,
      [SCHEMAS],
    );
    const result: Record<string, { rows: number; checksum: string }> = {};
    for (const { schema, table } of tables) {
      const name = `${quoteIdent(schema)}.${quoteIdent(table)}`;
      const { rows } = await client.query<{ rows: string; checksum: string | null }>(
        `select count(*) as rows, md5(string_agg(t::text, '|' order by t::text)) as checksum from ${name} t`,
      );
      result[`${schema}.${table}`] = { rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum ?? '' };
    }
    return result;
  } finally {
    await client.end();
  }
}

async function databaseExists(adminUrl: string, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return Boolean((await client.query('select 1 from pg_database where datname = $1', [name])).rowCount);
  } finally {
    await client.end();
  }
}

/** The restored database as a TestDatabase, so a stack runs on it and drops it at the end. */
function restoredDatabase(adminUrl: string, url: string): TestDatabase {
  return {
    target: { kind: 'postgres', url },
    url,
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${quoteIdent(new URL(url).pathname.slice(1))} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test names the fields it reads
type Data = Record<string, any>;

const adminUrl = process.env['DATABASE_URL'] ?? '';

describe.runIf(Boolean(process.env['DATABASE_URL']))('backup and restore (real PostgreSQL)', () => {
  let stack: ChatStack | undefined;
  let restoredStack: ChatStack | undefined;
  let databaseUrl: string;
  let backupRoot: string;
  let backupDir: string;
  let before: Awaited<ReturnType<typeof fingerprint>>;
  let user: { userId: string; username: string; password: string; accessToken: string };
  let entryIds: string[];
  let replyId: string;
  let replyContent: string;

  async function as(token: string, query: string, variables?: Record<string, unknown>): Promise<Data> {
    const result = await (restoredStack ?? stack)!.gql(query, variables, { authorization: `Bearer ${token}` });
    expect(result.body.errors, JSON.stringify(result.body.errors)).toBeUndefined();
    return result.body.data as Data;
  }

  beforeAll(async () => {
    backupRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'supergraph-backups-'));
    stack = await startChatStack();
    databaseUrl = stack.services.database.url!;
    // The stack migrates the subgraphs it runs; a real database holds every registered one.
    await migrateAll(stack.services.database.target, specs);
  });

  afterAll(async () => {
    await restoredStack?.stop();
    await stack?.stop();
    if (databaseUrl) await restoredDatabase(adminUrl, databaseUrl).drop();
    await fs.rm(backupRoot, { recursive: true, force: true });
  });

  it('backs up a database populated through the services: one archive per schema, a manifest, retention', async () => {
    const live = stack!;
    user = await live.signUp('backup');
    entryIds = await live.addKnowledge([
      { title: 'Photosynthesis', body: 'Plants turn light, water and carbon dioxide into sugar.', topic: 'biology' },
      { title: 'Osmosis', body: 'Water moves through a membrane towards the higher concentration.', topic: 'biology' },
    ]);
    await as(
      user.accessToken,
      'mutation ($input: UnitRecordInput!) { storeRecord(unitId: "physics", input: $input) { id } }',
      {
        input: { title: 'Ohm', content: 'Voltage is current times resistance.', tags: ['electricity'] },
      },
    );
    const { createDroid } = await as(
      user.accessToken,
      'mutation ($input: CreateDroidInput!) { createDroid(input: $input) { id } }',
      { input: { name: 'Teacher', persona: 'A patient teacher.' } },
    );
    const { startConversation } = await as(
      user.accessToken,
      'mutation ($droidId: ID!) { startConversation(droidId: $droidId) { id } }',
      { droidId: createDroid.id },
    );
    const { sendMessage } = await as(
      user.accessToken,
      'mutation ($id: ID!, $content: String!) { sendMessage(conversationId: $id, content: $content) { reply { id } } }',
      { id: startConversation.id, content: 'What is photosynthesis?' },
    );
    replyId = sendMessage.reply.id;
    // The reply streams in the background; back up once it is stored complete (polled, generous bound).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { message } = await as(user.accessToken, 'query ($id: ID!) { message(id: $id) { status content } }', {
        id: replyId,
      });
      if (message.status === 'COMPLETE') {
        replyContent = message.content;
        break;
      }
      if (Date.now() > deadline) throw new Error(`the reply is still ${message.status} after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Operations keeps copying audit and usage events in: stop it so the database holds still while it is compared.
    await live.operations.stop();
    before = await fingerprint(databaseUrl);
    for (const table of ['auth.users', 'knowledge.entries', 'physics_unit.records', 'conversation.messages']) {
      expect(before[table]?.rows, table).toBeGreaterThan(0);
    }
    const stale = await fakeBackup(backupRoot, new Date(Date.now() - 90 * DAY));

    const run = await runScript('backup', [], {
      DATABASE_URL: databaseUrl,
      BACKUP_DIR: backupRoot,
      BACKUP_KEEP_DAYS: '30',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const schema of SCHEMAS)
      expect(run.stdout).toMatch(new RegExp(`^\\[backup\\] ${schema}: \\d+ table\\(s\\)`, 'm'));
    expect(run.stdout).toContain(`removed ${stale}`);

    const [name, ...others] = await fs.readdir(backupRoot);
    expect(others).toEqual([]);
    backupDir = path.join(backupRoot, name!);
    const manifest = await readManifest(backupDir);
    expect(manifest.schemas.map((entry) => entry.schema)).toEqual(SCHEMAS);
    expect(manifest.tools.pg_dump).toMatch(/^pg_dump \(PostgreSQL\) \d+/);
    for (const entry of manifest.schemas) {
      expect(entry.role).toBe(specs.find((spec) => spec.schemas.some((s) => s.schema === entry.schema))!.role);
      // Custom-format archives start with PGDMP.
      const head = (await fs.readFile(path.join(backupDir, entry.file))).subarray(0, 5).toString('latin1');
      expect(head).toBe('PGDMP');
      for (const table of entry.tables)
        expect(table.rows, `${entry.schema}.${table.table}`).toBe(before[`${entry.schema}.${table.table}`]!.rows);
    }
    const tablesInManifest = manifest.schemas.flatMap((entry) =>
      entry.tables.map((table) => `${entry.schema}.${table.table}`),
    );
    expect(tablesInManifest.sort()).toEqual(Object.keys(before).sort());
  });

  it('restores into the dropped database: same rows and checksums in every table, owned by each subgraph role', async () => {
    await stack!.stop();
    stack = undefined;
    const name = new URL(databaseUrl).pathname.slice(1);
    expect(await databaseExists(adminUrl, name)).toBe(false);

    const run = await runScript('restore', ['--create-database', backupDir], { DATABASE_URL: databaseUrl });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`[restore] created database ${name}`);
    for (const schema of SCHEMAS) expect(run.stdout).toContain(`[restore] ${schema}: `);
    expect(run.stdout).toContain('[restore] done');

    expect(await fingerprint(databaseUrl)).toEqual(before);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      for (const spec of specs) {
        const { rows } = await client.query<{ owner: string }>(
          `select distinct tableowner as owner from pg_tables where schemaname = any($1::text[])
           union select distinct pg_get_userbyid(nspowner) from pg_namespace where nspname = any($1::text[])`,
          [spec.schemas.map(({ schema }) => schema)],
        );
        expect(
          rows.map((row) => row.owner),
          spec.name,
        ).toEqual([spec.role]);
      }
    } finally {
      await client.end();
    }
  });

  it('refuses to restore over existing schemas without --clean, and a damaged archive, changing nothing', async () => {
    const over = await runScript('restore', [backupDir], { DATABASE_URL: databaseUrl });
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/\[restore\] failed: schema\(s\) .*auth.* already exist in .*pass --clean/);

    const damaged = path.join(backupRoot, 'damaged');
    await fs.cp(backupDir, damaged, { recursive: true });
    const archive = path.join(damaged, 'knowledge.dump');
    const bytes = await fs.readFile(archive);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    await fs.writeFile(archive, bytes);
    const tampered = await runScript('restore', ['--clean', damaged], { DATABASE_URL: databaseUrl });
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain(`${archive} is damaged: its sha256 differs from the manifest`);

    await fs.rm(damaged, { recursive: true });
    await fs.mkdir(damaged);
    await fs.writeFile(path.join(damaged, 'manifest.json'), '{"format":"something-else"}');
    const foreign = await runScript('restore', [damaged], { DATABASE_URL: databaseUrl });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('is not a supergraph-backup/1 manifest');
    expect(await fingerprint(databaseUrl)).toEqual(before);
  });

  it('rolls the whole restore back when one archive fails half-way, with --clean', async () => {
    const broken = path.join(backupRoot, 'broken');
    await fs.cp(backupDir, broken, { recursive: true });
    // A last archive pg_restore cannot read, with a manifest that vouches for it: the earlier schemas were already sent.
    const manifest = await readManifest(broken);
    const last = manifest.schemas.at(-1)!;
    await fs.writeFile(path.join(broken, last.file), 'PGDMP but not really an archive');
    const { createHash } = await import('node:crypto');
    last.sha256 = createHash('sha256').update('PGDMP but not really an archive').digest('hex');
    await writeManifest(broken, manifest);

    const run = await runScript('restore', ['--clean', broken], { DATABASE_URL: databaseUrl });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`[restore] dropping`);
    expect(run.stderr).toMatch(
      /\[restore\] failed: restore rolled back, nothing changed: pg_restore exited with code 1/,
    );
    expect(await fingerprint(databaseUrl)).toEqual(before);
    await fs.rm(broken, { recursive: true });
  });

  it('serves a login, a search and the old conversation from the restored database through the gateway', async () => {
    restoredStack = await startChatStack({ database: restoredDatabase(adminUrl, databaseUrl) });
    const login = await restoredStack.gql(LOGIN, {
      input: { usernameOrEmail: user.username, password: user.password },
    });
    expect(login.body.errors).toBeUndefined();
    const session = login.body.data?.['login'] as { accessToken: string; user: { id: string } };
    expect(session.user.id).toBe(user.userId);

    const { searchKnowledge } = await as(
      session.accessToken,
      'query ($query: String!) { searchKnowledge(query: $query) { edges { node { id title } } } }',
      { query: 'photosynthesis' },
    );
    expect(searchKnowledge.edges.map((edge: Data) => edge.node.id)).toContain(entryIds[0]);

    const { message } = await as(session.accessToken, 'query ($id: ID!) { message(id: $id) { status content } }', {
      id: replyId,
    });
    expect(message).toEqual({ status: 'COMPLETE', content: replyContent });
  });
});
