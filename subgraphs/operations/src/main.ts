import { runSubgraph } from '@supergraph/kit';
import { operations } from './index.ts';

await runSubgraph(operations);
