import { Kind, type ConstDirectiveNode, type DocumentNode } from 'graphql';

// What the gateway reads from a supergraph's join__ directives: which subgraphs it has, and which one resolves credentials.

export { subgraphsOf } from '@supergraph/platform';

/**
 * The subgraph that resolves API keys and session tokens: the owner of
 * `Query.resolveCredential` in the supergraph (by its `@join__field(graph:)`,
 * or Query's only `@join__type` in a one-subgraph supergraph), or undefined
 * when the supergraph has none.
 */
export function credentialSubgraphOf(supergraph: DocumentNode): string | undefined {
  const graphNames = new Map<string, string>();
  let owner: string | undefined;
  for (const definition of supergraph.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph') {
      for (const value of definition.values ?? []) {
        const name = value.directives
          ?.find((directive) => directive.name.value === 'join__graph')
          ?.arguments?.find((arg) => arg.name.value === 'name')?.value;
        if (name?.kind === Kind.STRING) graphNames.set(value.name.value, name.value);
      }
    }
    if (definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.name.value === 'Query') {
      const field = definition.fields?.find((candidate) => candidate.name.value === 'resolveCredential');
      if (!field) continue;
      // Composition writes @join__field only when Query spans several subgraphs; else Query's one @join__type says it.
      const fieldGraphs = graphsOf(field.directives, 'join__field');
      const typeGraphs = graphsOf(definition.directives, 'join__type');
      owner = fieldGraphs[0] ?? (typeGraphs.length === 1 ? typeGraphs[0] : undefined);
    }
  }
  return owner ? graphNames.get(owner) : undefined;
}

/** The `graph:` arguments of every `@<name>(graph: X)` among `directives`. */
function graphsOf(directives: readonly ConstDirectiveNode[] | undefined, name: string): string[] {
  return (directives ?? [])
    .filter((directive) => directive.name.value === name)
    .flatMap((directive) => {
      const graph = directive.arguments?.find((arg) => arg.name.value === 'graph')?.value;
      return graph?.kind === Kind.ENUM ? [graph.value] : [];
    });
}
