/** inventory: stock per product, and a shipping estimate that `@requires` the product's price and weight. */
export const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])

  type Product @key(fields: "upc") {
    upc: String!
    weight: Int @external
    price: Int @external
    inStock: Boolean
    shippingEstimate: Int @requires(fields: "price weight")
  }
`;

const IN_STOCK = new Set(['1', '5', '6', '7', '9']);

interface ProductReference {
  upc: string;
  price?: number | null;
  weight?: number | null;
}

export const resolvers = {
  Product: {
    __resolveReference: (reference: ProductReference) => ({ ...reference, inStock: IN_STOCK.has(reference.upc) }),
    // Free above 1000; else half the weight. (The public benchmark's Rust subgraph drops the required
    // fields and always answers null; computing it here keeps @requires doing real work.)
    shippingEstimate: (product: ProductReference) => {
      if (product.price == null || product.weight == null) return null;
      return product.price > 1000 ? 0 : Math.floor(product.weight / 2);
    },
  },
};
