import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScopeCatalog } from './identity.ts';

/** The repository's root folder (the same in a checkout and in the image). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A path from configuration: absolute as given, relative ones against the
 * repository root, so a service finds `.data/` and `schema/` whatever folder it
 * was started from.
 */
export function repoPath(...segments: string[]): string {
  return path.resolve(REPO_ROOT, ...segments);
}

/** The composed scope catalog (`schema/scopes.json`, written by `npm run compose`). */
export function loadScopeCatalog(file = repoPath('schema', 'scopes.json')): ScopeCatalog {
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run compose\``);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ScopeCatalog>;
  const list = (value: unknown) => (Array.isArray(value) ? value.filter((item) => typeof item === 'string') : []);
  return Object.freeze({ user: list(parsed.user), admin: list(parsed.admin) });
}
