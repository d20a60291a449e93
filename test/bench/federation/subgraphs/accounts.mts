/** accounts: owns `User` (the public benchmark's six users). */
export const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

  type Query {
    me: User
    user(id: ID!): User
    users: [User]
  }

  type User @key(fields: "id") {
    id: ID!
    name: String
    "Also provided by reviews (\`Review.author @provides\`)."
    username: String @shareable
    birthday: Int
  }
`;

interface User {
  id: string;
  name: string;
  username: string;
  birthday: number;
}

const USERS: readonly User[] = [
  ['1', 'Uri Goldshtein', 'urigo'],
  ['2', 'Dotan Simha', 'dotansimha'],
  ['3', 'Kamil Kisiela', 'kamilkisiela'],
  ['4', 'Arda Tanrikulu', 'ardatan'],
  ['5', 'Gil Gardosh', 'gilgardosh'],
  ['6', 'Laurin Quast', 'laurin'],
].map(([id, name, username]) => ({ id: id!, name: name!, username: username!, birthday: 1234567890 }));

const userById = (id: string) => USERS.find((user) => user.id === id) ?? null;

export const resolvers = {
  Query: {
    me: () => USERS[0],
    user: (_root: unknown, args: { id: string }) => userById(args.id),
    users: () => USERS,
  },
  User: {
    __resolveReference: (reference: { id: string }) => userById(reference.id),
  },
};
