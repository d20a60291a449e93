export { credentialSubgraphOf, startGateway, subgraphsOf, formatGatewayError } from './server.ts';
export type { GatewayOptions, RunningGateway, GatewayContext } from './server.ts';
export { parseGatewayEnv, internalKeyProblem, subgraphUrlsFromEnv } from './env.ts';
export type { GatewayEnv } from './env.ts';
export { ACCESS_TOKEN_TYPE, GATEWAY_IDENTITY } from './authenticate.ts';
