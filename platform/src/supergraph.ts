import { Kind, type DocumentNode } from 'graphql';

/**
 * Subgraph name → routing URL, read from a composed supergraph's
 * `join__Graph` enum. The supergraph is composed from the registry, so this
 * is the one list of subgraphs for processes that cannot import the registry
 * (the gateway serves any supergraph; operations is itself in the registry).
 */
export function subgraphsOf(supergraph: DocumentNode): Map<string, string> {
  const result = new Map<string, string>();
  for (const definition of supergraph.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const directive = value.directives?.find((candidate) => candidate.name.value === 'join__graph');
      const argument = (name: string) => {
        const node = directive?.arguments?.find((arg) => arg.name.value === name)?.value;
        return node?.kind === Kind.STRING ? node.value : undefined;
      };
      const name = argument('name');
      const url = argument('url');
      if (name && url) result.set(name, url);
    }
  }
  return result;
}
