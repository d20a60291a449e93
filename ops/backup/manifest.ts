import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** The manifest's format tag; a restore refuses anything else rather than guess. */
export const MANIFEST_FORMAT = 'supergraph-backup/1';
export const MANIFEST_FILE = 'manifest.json';

const tableStats = z.object({ table: z.string(), rows: z.number().int().nonnegative(), checksum: z.string() });

const schemaEntry = z.object({
  schema: z.string().min(1),
  /** The registered subgraph owning it, and that subgraph's role (the owner of every object in it). */
  subgraph: z.string(),
  role: z.string(),
  /** The `pg_dump --format=custom` archive, relative to the backup directory. */
  file: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  tables: z.array(tableStats),
});

/**
 * What a backup directory holds and what it must restore to: one archive per
 * schema with its size and sha256, every table's row count and checksum read
 * in the same snapshot `pg_dump` used, and the versions that wrote it.
 */
export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  createdAt: z.iso.datetime(),
  database: z.string(),
  /** `host:port` of the source server (never credentials). */
  server: z.string(),
  serverVersion: z.string(),
  tools: z.object({ pg_dump: z.string(), node: z.string() }),
  compression: z.number().int().min(0).max(9),
  /** Extensions the schemas need; `pg_dump --schema` leaves out those installed in `public`. */
  extensions: z.array(z.string()),
  durationMs: z.number().nonnegative(),
  schemas: z.array(schemaEntry).min(1),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestSchemaEntry = z.infer<typeof schemaEntry>;

/** Reads and validates `<directory>/manifest.json`; the error names the file and what is wrong. */
export async function readManifest(directory: string): Promise<Manifest> {
  const file = path.join(directory, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new Error(`${file} is missing: ${directory} is not a complete backup`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(manifest)'}: ${issue.message}`);
    throw new Error(`${file} is not a ${MANIFEST_FORMAT} manifest:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

export async function writeManifest(directory: string, manifest: Manifest): Promise<void> {
  await fs.writeFile(path.join(directory, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
}

/** sha256 of a file, streamed (archives can be large). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
