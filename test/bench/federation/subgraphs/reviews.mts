/**
 * reviews: eleven reviews of products 1-4 (lorem ipsum bodies, 150-1000
 * characters, so responses weigh what the public benchmark's do). As there,
 * every review's author is user 1 (`username` provided, `name` from accounts)
 * and every user's `reviews` are the first two: TestQuery's fan-out depends on it.
 */
export const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@provides"])

  type Review @key(fields: "id") {
    id: ID!
    body: String
    product: Product
    author: User @provides(fields: "username")
  }

  type User @key(fields: "id") {
    id: ID!
    username: String @external
    reviews: [Review]
  }

  type Product @key(fields: "upc") {
    upc: String!
    reviews: [Review]
  }
`;

const LOREM =
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.';
const SED_UT =
  'Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et quasi architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugi';
const SED_QUIA =
  'sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt. Neque porro quisquam est, qui dolorem ipsum quia dolor sit amet, consectetur, adipisci velit, sed quia non numquam eius modi tempora incidunt ut labore et dolore magnam aliquam quaerat voluptatem.';
const UT_ENIM =
  'Ut enim ad minima veniam, quis nostrum exercitationem ullam corporis suscipit laboriosam, nisi ut aliquid ex ea commodi consequatur? Quis autem';
const AT_VERO =
  'At vero eos et accusamus et iusto odio dignissimos ducimus qui blanditiis praesentium voluptatum deleniti atque corrupti quos dolores et quas molestias excepturi sint occaecati cupiditate non provident, similique sunt in culpa qui officia deserunt mollitia animi, id est laborum et dolorum fuga. Et harum quidem rerum facilis est et expedita distinctio. Nam libero tempore, cum soluta nobis est eligendi optio cumque nihil impedit quo minus id quod maxime placeat facere possimus, omnis voluptas assumenda est, omnis dolor repellendus. Temporibus autem quibusdam et aut officiis debitis aut rerum necessitatibus saepe eveniet ut et voluptates repudiandae sint et molestiae non recusandae. Itaque earum rerum hic tenetur a sapiente delectus, ut aut reiciendis voluptatibus maiores alias consequatur aut perferendis doloribus asperiores repellat.';

interface Review {
  id: string;
  body: string;
  productUpc: string;
}

const REVIEWS: readonly Review[] = (
  [
    ['1', LOREM],
    ['1', SED_UT],
    ['1', SED_QUIA],
    ['1', UT_ENIM],
    ['2', LOREM],
    ['2', SED_UT],
    ['2', SED_QUIA],
    ['2', UT_ENIM],
    ['3', UT_ENIM],
    ['4', UT_ENIM],
    ['4', AT_VERO],
  ] as const
).map(([productUpc, body], index) => ({ id: String(index + 1), body, productUpc }));

const AUTHOR = { id: '1', username: 'urigo' };
const REVIEWS_OF_ANY_USER = REVIEWS.slice(0, 2);

export const resolvers = {
  Review: {
    __resolveReference: (reference: { id: string }) => REVIEWS.find((review) => review.id === reference.id) ?? null,
    product: (review: Review) => ({ upc: review.productUpc }),
    author: () => AUTHOR,
  },
  User: {
    __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
    reviews: () => REVIEWS_OF_ANY_USER,
  },
  Product: {
    __resolveReference: (reference: { upc: string }) => ({ upc: reference.upc }),
    reviews: (product: { upc: string }) => REVIEWS.filter((review) => review.productUpc === product.upc),
  },
};
