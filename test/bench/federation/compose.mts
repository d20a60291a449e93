import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPHS } from './subgraph-list.mts';

/** The supergraph of the four subgraphs, routed to where they listen this run. */
export function composeSupergraph(urls: Readonly<Record<string, string>>): string {
  const result = composeServices(
    SUBGRAPHS.map(({ name, typeDefs }) => {
      const url = urls[name];
      if (!url) throw new Error(`No URL for subgraph ${name}`);
      return { name, url, typeDefs: parse(typeDefs) };
    }),
  );
  if (result.errors) throw new Error(`Composition failed:\n${result.errors.map((error) => error.message).join('\n')}`);
  return result.supergraphSdl;
}
