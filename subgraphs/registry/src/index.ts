import type { SubgraphDescriptor } from '@supergraph/kit';
import type { ScopeCatalog } from '@supergraph/platform';
import { auth } from '@supergraph/auth';
import { conversation } from '@supergraph/conversation';
import { knowledge } from '@supergraph/knowledge';
import { operations } from '@supergraph/operations';
import { storageUnits } from '@supergraph/storage-units';

/**
 * Every subgraph in the graph, in start order. Composition, migrations,
 * seeding, codegen, secrets, the launcher, the least-privilege test and the
 * docs' tables loop over this list; adding a subgraph is its folder plus one
 * line here (`docs/adding-a-subgraph.md`).
 */
export const SUBGRAPHS: readonly SubgraphDescriptor[] = Object.freeze([
  auth,
  knowledge,
  storageUnits,
  conversation,
  operations,
]);

/** The registered subgraph called `name`; throws naming the known ones otherwise. */
export function subgraphNamed(name: string): SubgraphDescriptor {
  const found = SUBGRAPHS.find((subgraph) => subgraph.name === name);
  if (!found) throw new Error(`unknown subgraph "${name}" (registered: ${SUBGRAPHS.map((s) => s.name).join(', ')})`);
  return found;
}

/** Every subgraph's scopes, collected: what `npm run compose` writes to `schema/scopes.json`. */
export function collectScopes(subgraphs: readonly SubgraphDescriptor[] = SUBGRAPHS): ScopeCatalog {
  const unique = (lists: ReadonlyArray<readonly string[]>) => [...new Set(lists.flat())];
  return {
    user: unique(subgraphs.map((subgraph) => subgraph.scopes.user)),
    admin: unique(subgraphs.map((subgraph) => subgraph.scopes.admin)),
  };
}
