import { runSubgraph } from '@supergraph/kit';
import { knowledge } from './index.ts';

await runSubgraph(knowledge);
