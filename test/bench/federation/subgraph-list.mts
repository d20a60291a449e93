import * as accounts from './subgraphs/accounts.mts';
import * as inventory from './subgraphs/inventory.mts';
import * as products from './subgraphs/products.mts';
import * as reviews from './subgraphs/reviews.mts';

/** The public benchmark's four subgraphs, by the names the supergraph routes to. */
export const SUBGRAPHS = [
  { name: 'accounts', ...accounts },
  { name: 'inventory', ...inventory },
  { name: 'products', ...products },
  { name: 'reviews', ...reviews },
] as const;
