import { readFileSync } from 'node:fs';
import { Kind, parse, type DocumentNode } from 'graphql';

/** One service operations watches: a subgraph of the composed supergraph, or the gateway. */
export interface ServiceTarget {
  name: string;
  kind: 'SUBGRAPH' | 'GATEWAY';
  /** Its GraphQL endpoint; `/ready`, `/health` and `/metrics` are on the same origin. */
  url: string;
}

/** The name the gateway goes by in `services` (no subgraph may take it: subgraph names are the graph's). */
export const GATEWAY_SERVICE = 'gateway';

/**
 * Subgraph name → routing URL, read from the supergraph's `join__Graph` enum.
 * A copy of the gateway's `subgraphsOf` (gateway/src/supergraph-graphs.ts):
 * operations cannot depend on the gateway or the registry (the registry
 * imports every subgraph), and the composed supergraph is the registry's
 * artefact, so reading it is reading the one list.
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

/**
 * The services to watch: every subgraph the supergraph names, at its
 * `<NAME>_URL` override when given (`urlOverrides`, by subgraph name, exactly
 * the gateway's rule), then the gateway.
 *
 * @example
 * serviceTargets(readFileSync('schema/supergraph.graphql', 'utf8'), { knowledge: 'http://k:4002/graphql' }, gatewayUrl)
 */
export function serviceTargets(
  supergraphSdl: string,
  urlOverrides: Readonly<Record<string, string>>,
  gatewayUrl: string,
): ServiceTarget[] {
  const targets: ServiceTarget[] = [...subgraphsOf(parse(supergraphSdl))].map(([name, url]) => ({
    name,
    kind: 'SUBGRAPH',
    url: urlOverrides[name] ?? url,
  }));
  targets.push({ name: GATEWAY_SERVICE, kind: 'GATEWAY', url: gatewayUrl });
  return targets;
}

/** {@link serviceTargets} over the supergraph file (read once at start: a new subgraph means a new deployment). */
export function serviceTargetsFromFile(
  supergraphPath: string,
  urlOverrides: Readonly<Record<string, string>>,
  gatewayUrl: string,
): ServiceTarget[] {
  return serviceTargets(readFileSync(supergraphPath, 'utf8'), urlOverrides, gatewayUrl);
}

/** `<origin>/<route>` of a service's GraphQL URL (`http://h:4002/graphql` → `http://h:4002/ready`). */
export function routeOf(target: Pick<ServiceTarget, 'url'>, route: '/ready' | '/health' | '/metrics'): string {
  return new URL(route, target.url).toString();
}
