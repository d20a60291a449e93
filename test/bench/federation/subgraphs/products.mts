/** products: owns `Product` (nine products) and `topProducts`. */
export const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Query {
    topProducts(first: Int = 5): [Product]
  }

  type Product @key(fields: "upc") {
    upc: String!
    name: String
    price: Int
    weight: Int
  }
`;

interface Product {
  upc: string;
  name: string;
  price: number;
  weight: number;
}

const PRODUCTS: readonly Product[] = (
  [
    ['Table', 899, 100],
    ['Couch', 1299, 1000],
    ['Glass', 15, 20],
    ['Chair', 499, 100],
    ['TV', 1299, 1000],
    ['Lamp', 6999, 300],
    ['Grill', 3999, 2000],
    ['Fridge', 100000, 6000],
    ['Sofa', 9999, 800],
  ] as const
).map(([name, price, weight], index) => ({ upc: String(index + 1), name, price, weight }));

export const resolvers = {
  Query: {
    topProducts: (_root: unknown, args: { first?: number | null }) => PRODUCTS.slice(0, args.first ?? 5),
  },
  Product: {
    __resolveReference: (reference: { upc: string }) =>
      PRODUCTS.find((product) => product.upc === reference.upc) ?? null,
  },
};
