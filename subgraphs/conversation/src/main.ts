import { runSubgraph } from '@supergraph/kit';
import { conversation } from './index.ts';

await runSubgraph(conversation);
