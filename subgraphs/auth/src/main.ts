import { runSubgraph } from '@supergraph/kit';
import { auth } from './index.ts';

await runSubgraph(auth);
