import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { subgraphsOf } from '@supergraph/platform';

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
