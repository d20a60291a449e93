import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { quoteIdent, type DatabaseTarget } from './connection.ts';
import { openEmbeddedPostgres } from './embedded.ts';

export interface TestDatabase {
  target: DatabaseTarget;
  /** The admin URL of the fresh database (postgres only). */
  url?: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one test run: `test_<random>` on the server of
 * `adminUrl` when given (real PostgreSQL), an in-memory PGlite otherwise.
 * `SUPERGRAPH_FORBID_EMBEDDED=1` (CI) turns the fallback into an error.
 */
export async function createTestDatabase(adminUrl: string | undefined): Promise<TestDatabase> {
  if (!adminUrl) {
    if (process.env['SUPERGRAPH_FORBID_EMBEDDED'] === '1') {
      throw new Error('DATABASE_URL is unset but SUPERGRAPH_FORBID_EMBEDDED=1 forbids the embedded PGlite');
    }
    const pglite: PGlite = await openEmbeddedPostgres('memory://');
    return { target: { kind: 'pglite', pglite }, drop: () => pglite.close() };
  }
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${quoteIdent(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    target: { kind: 'postgres', url: url.toString() },
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${quoteIdent(name)} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
