import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

/** Type OIDs parsed as strings so PGlite answers exactly like `pg` does (int8, numeric). */
const pgCompatibleParsers = { 20: (value: string) => value, 1700: (value: string) => value };

/**
 * Opens the embedded PostgreSQL (PGlite) used when `DATABASE_URL` is unset.
 * `dataDir` persists across runs (`.data/pglite` by default); pass `memory://`
 * for a throw-away database (tests).
 */
export async function openEmbeddedPostgres(dataDir: string): Promise<PGlite> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create({
    dataDir,
    extensions: { pg_trgm },
    parsers: pgCompatibleParsers,
    relaxedDurability: false,
  });
  await pglite.exec('create extension if not exists pg_trgm');
  return pglite;
}
