/** The public benchmark's TestQuery: four subgraphs, entity fetches six levels deep, ~100 KB of JSON. */
export const TEST_QUERY = /* GraphQL */ `
  fragment User on User {
    id
    username
    name
  }

  fragment Review on Review {
    id
    body
  }

  fragment Product on Product {
    inStock
    name
    price
    shippingEstimate
    upc
    weight
  }

  query TestQuery {
    users {
      ...User
      reviews {
        ...Review
        product {
          ...Product
          reviews {
            ...Review
            author {
              ...User
              reviews {
                ...Review
                product {
                  ...Product
                }
              }
            }
          }
        }
      }
    }
    topProducts {
      ...Product
      reviews {
        ...Review
        author {
          ...User
          reviews {
            ...Review
            product {
              ...Product
            }
          }
        }
      }
    }
  }
`;

/** One fetch to one subgraph (products): what a gateway adds over calling the subgraph itself. */
export const SMALL_QUERY = /* GraphQL */ `
  query SmallQuery {
    topProducts(first: 3) {
      upc
      name
      price
    }
  }
`;
