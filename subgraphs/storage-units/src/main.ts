import { runSubgraph } from '@supergraph/kit';
import { storageUnits } from './index.ts';

await runSubgraph(storageUnits);
