import { quoteIdent } from '@supergraph/db';
import type pg from 'pg';

/** One table's fingerprint: how many rows, and an md5 over all of them in a stable order. */
export interface TableStats {
  table: string;
  rows: number;
  checksum: string;
}

/**
 * Makes `row::text` the same on every server and session, so a checksum taken
 * before a backup equals the one taken after the restore: timestamps print in
 * UTC and ISO, bytea in hex. Call inside the transaction that reads the stats.
 */
export async function useStableTextOutput(client: pg.ClientBase): Promise<void> {
  await client.query(`set local timezone = 'UTC'`);
  await client.query(`set local datestyle = 'ISO, YMD'`);
  await client.query(`set local intervalstyle = 'postgres'`);
  await client.query(`set local bytea_output = 'hex'`);
  await client.query(`set local extra_float_digits = 1`);
}

/** The ordinary and partitioned tables of `schema`, by name. */
export async function tablesOf(client: pg.ClientBase, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition order by c.relname collate "C"`,
    [schema],
  );
  return rows.map((row) => row.name);
}

/**
 * Row count and checksum of every table of `schema` (`md5` over the rows'
 * own md5s in order: 32 bytes a row, so a large table stays far below
 * PostgreSQL's 1 GB value limit, and no collation decides the order), read
 * through `client`: inside the backup's exported snapshot they describe
 * exactly what `pg_dump` wrote.
 */
export async function schemaStats(client: pg.ClientBase, schema: string): Promise<TableStats[]> {
  const stats: TableStats[] = [];
  for (const table of await tablesOf(client, schema)) {
    const { rows } = await client.query<{ rows: string; checksum: string }>(
      `select count(*)::text as rows,
              md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text) collate "C"), '')) as checksum
         from ${quoteIdent(schema)}.${quoteIdent(table)} t`,
    );
    const row = rows[0]!;
    stats.push({ table, rows: Number(row.rows), checksum: row.checksum });
  }
  return stats;
}

/** The tables whose count or checksum differ between `expected` and `actual` (missing or extra ones too). */
export function compareStats(expected: readonly TableStats[], actual: readonly TableStats[]): string[] {
  const found = new Map(actual.map((stats) => [stats.table, stats]));
  const problems: string[] = [];
  for (const want of expected) {
    const got = found.get(want.table);
    found.delete(want.table);
    if (!got) problems.push(`${want.table}: missing`);
    else if (got.rows !== want.rows) problems.push(`${want.table}: ${got.rows} row(s), expected ${want.rows}`);
    else if (got.checksum !== want.checksum) problems.push(`${want.table}: checksum differs`);
  }
  for (const table of found.keys()) problems.push(`${table}: not in the backup`);
  return problems;
}
