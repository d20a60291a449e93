export { composeSupergraph, SUBGRAPHS } from './compose.ts';
