/**
 * The measured gateway, a child process of `bench.ts` (pinned to core 0
 * beside the stack), so its CPU and RSS are its own: `startGateway` over the
 * stack's subgraphs, configured as the chat tests' gateway (the composed
 * supergraph, the run's internal-token key, auth's issuer and audience; no
 * budgets, no revocation feed: the stack's in-process Redis stand-in cannot be
 * shared across processes).
 *
 * Asks: `stats` (open streams, upstream sockets, RSS after GC), `stop`.
 */
import { startGateway } from '@supergraph/gateway';
import { importInternalSigningKey } from '@supergraph/platform';
import { composeSupergraph } from '../../../schema/compose.ts';
import { collectedRss, serveAsks, type GatewayReady, type GatewayStats } from './ipc.ts';

interface Config {
  subgraphUrls: Record<string, string>;
  privateKeyPem: string;
  issuer: string;
  audience: string;
}

const config = JSON.parse(process.env['BENCH_GATEWAY_CONFIG'] ?? '{}') as Config;
const gateway = await startGateway(
  {
    supergraphSdl: composeSupergraph(),
    internalTokenKey: await importInternalSigningKey(config.privateKeyPem),
    auth: { issuer: config.issuer, audience: config.audience },
    subgraphUrls: config.subgraphUrls,
  },
  0,
);

serveAsks(
  (ask) => {
    if (ask.kind === 'stats')
      return {
        openStreams: gateway.subscriptions.openStreams(),
        upstreamSockets: gateway.subscriptions.upstreamSockets(),
        rssBytes: collectedRss(),
      } satisfies GatewayStats;
    throw new Error(`unknown ask ${ask.kind}`);
  },
  () => gateway.stop(),
);

process.send?.({ kind: 'ready', url: gateway.url } satisfies GatewayReady);
