import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createDatabase, createTestDatabase, migrateAll, urlForRole, type TestDatabase } from '@supergraph/db';
import { startGateway, subgraphsOf, subgraphUrlsFromEnv } from '@supergraph/gateway';
import type { RunningSubgraph, SubgraphDescriptor } from '@supergraph/kit';
import {
  createRedis,
  generateInternalKeyPair,
  importInternalSigningKey,
  importInternalVerifyKey,
  repoPath,
  type Redis,
} from '@supergraph/platform';
import { collectScopes, SUBGRAPHS } from '@supergraph/registry';
import { composeSupergraph } from '@supergraph/schema';
import { sql } from 'kysely';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notes } from './fixtures/notes/src/index.ts';

/**
 * The registry and the folders agree, and the shape holds for a subgraph
 * nobody has written yet: `notes` (test/fixtures/notes) is a folder plus one
 * list entry, and it composes, migrates under its own role, starts through its
 * descriptor and answers through the gateway.
 */
const isDescriptor = (value: unknown): value is SubgraphDescriptor =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as SubgraphDescriptor).configure === 'function' &&
  typeof (value as SubgraphDescriptor).database === 'object';

describe('the subgraph registry', () => {
  it('lists every subgraphs/* package that exports a descriptor, and nothing else', async () => {
    const folders = readdirSync(repoPath('subgraphs'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
    const withDescriptor: string[] = [];
    for (const folder of folders) {
      const index = repoPath('subgraphs', folder.name, 'src', 'index.ts');
      if (!existsSync(index)) continue;
      const module = (await import(index)) as Record<string, unknown>;
      for (const value of Object.values(module)) if (isDescriptor(value)) withDescriptor.push(value.name);
    }
    expect(withDescriptor.sort()).toEqual(SUBGRAPHS.map((subgraph) => subgraph.name).sort());
  });

  it('names each subgraph once, after its folder, with its own role, SDL and port', () => {
    const names = SUBGRAPHS.map((subgraph) => subgraph.name);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(SUBGRAPHS.map((subgraph) => subgraph.port)).size).toBe(names.length);
    for (const subgraph of SUBGRAPHS) {
      expect(subgraph.schemaFile).toBe(repoPath('subgraphs', subgraph.name, 'src', 'schema.graphql'));
      expect(existsSync(subgraph.schemaFile)).toBe(true);
      expect(subgraph.database.role).toBe(`supergraph_${subgraph.name.replaceAll('-', '_')}`);
      for (const { migrationsDir } of subgraph.database.schemas) expect(existsSync(migrationsDir)).toBe(true);
    }
  });

  it('composes exactly the registered subgraphs, and the committed supergraph is that composition', () => {
    const supergraph = composeSupergraph();
    expect([...subgraphsOf(parse(supergraph)).keys()].sort()).toEqual(SUBGRAPHS.map((s) => s.name).sort());
    expect(readFileSync(repoPath('schema', 'supergraph.graphql'), 'utf8')).toBe(supergraph);
  });

  it('fails composition loudly when a registered subgraph has no SDL', () => {
    const missing = { ...notes, name: 'ghost', schemaFile: path.join(repoPath('test'), 'no-such-schema.graphql') };
    expect(() => composeSupergraph([...SUBGRAPHS, missing])).toThrow(/ghost has no SDL/);
  });

  it('collects every scope a subgraph declares, once', () => {
    const catalog = collectScopes([...SUBGRAPHS, notes]);
    expect(catalog.user).toContain('notes:read');
    expect(new Set(catalog.user).size).toBe(catalog.user.length);
    expect(JSON.parse(readFileSync(repoPath('schema', 'scopes.json'), 'utf8'))).toEqual(collectScopes());
  });

  it('is what the least-privilege test loops over (a new subgraph is covered without editing it)', () => {
    const text = readFileSync(repoPath('test', 'least-privilege.int.test.ts'), 'utf8');
    expect(text).toMatch(/import \{ SUBGRAPHS \} from '@supergraph\/registry'/);
    expect(text).toMatch(/SUBGRAPHS\.map\(\(subgraph\) => subgraph\.database\)/);
  });
});

describe('adding a subgraph: a folder and one registry line', () => {
  let testDb: TestDatabase;
  let redis: Redis;
  const running: Array<{ stop(): Promise<void> }> = [];

  beforeAll(async () => {
    testDb = await createTestDatabase(process.env['DATABASE_URL']);
    redis = await createRedis(process.env['REDIS_URL']);
  });

  afterAll(async () => {
    for (const service of running.reverse()) await service.stop();
    redis?.disconnect();
    await testDb?.drop();
  });

  it('composes, migrates under its own role, starts from its descriptor and answers through the gateway', async () => {
    const supergraphSdl = composeSupergraph([...SUBGRAPHS, notes]);
    expect([...subgraphsOf(parse(supergraphSdl)).keys()]).toContain('notes');

    const report = await migrateAll(testDb.target, [notes.database]);
    const target =
      testDb.url && report.rolesManaged
        ? { kind: 'postgres' as const, url: urlForRole(testDb.url, notes.database.role) }
        : testDb.target;
    if (target.kind === 'postgres') {
      const asNotes = createDatabase(target, { schema: 'notes' });
      try {
        const { rows } = await sql<{ tableowner: string }>`
          select tableowner from pg_tables where schemaname = 'notes'`.execute(asNotes.db);
        expect(new Set(rows.map((row) => row.tableowner))).toEqual(new Set(['supergraph_notes']));
      } finally {
        await asNotes.close();
      }
    }

    const keys = generateInternalKeyPair();
    const configured = notes.configure({}, { production: false });
    expect(configured.problems).toEqual([]);
    const subgraph: RunningSubgraph = await configured.start!({
      target,
      internalTokenKey: await importInternalVerifyKey(keys.publicKeyPem),
      redis,
      rateLimits: {},
      port: 0,
      host: '127.0.0.1',
    });
    running.push(subgraph);
    // The gateway finds `NOTES_URL` by the supergraph's own graph name; the others are not running here.
    const subgraphUrls = subgraphUrlsFromEnv(['notes'], { NOTES_URL: subgraph.url });
    const gateway = await startGateway(
      { supergraphSdl, internalTokenKey: await importInternalSigningKey(keys.privateKeyPem), subgraphUrls },
      0,
    );
    running.push(gateway);
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ notes { text } }' }),
    });
    expect(await response.json()).toEqual({ data: { notes: [{ text: 'hello from notes' }] } });
  });
});
