import { randomUUID } from 'node:crypto';
import { createDatabase } from '@supergraph/db';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDb } from './storage.table.ts';
import { startHarness, userIdentity, type StorageUnitsHarness } from './testing/harness.ts';
import { UNITS } from './units.ts';

/*
 * The loaders make entity resolution constant-cost: the gateway's `_entities`
 * batch and `User.storedRecords` over many users cost the same number of SQL
 * statements whatever their size (counted with a Kysely plugin in the subgraph).
 */

let harness: StorageUnitsHarness;
let statements = 0;
/** Ids of every seeded record, with its unit, across every unit. */
const records: Array<{ id: string; unitId: string }> = [];
/** Authors with records in several units. */
const authors = Array.from({ length: 6 }, () => userIdentity(randomUUID(), 'enterprise'));

beforeAll(async () => {
  // The first 20,000 WordNet synsets seed 129 records over the seven units: enough for batches of 100.
  harness = await startHarness({ seedLimit: 20_000, onQuery: () => statements++ });
  const reader = createDatabase<StorageDb>(harness.target, { schema: 'storage_registry' });
  try {
    for (const unit of UNITS) {
      const { rows } = await sql<{ id: string }>`select id from ${sql.id(unit.schema, 'records')} order by id`.execute(
        reader.db,
      );
      records.push(...rows.map((row) => ({ id: row.id, unitId: unit.id })));
    }
  } finally {
    await reader.close();
  }
  // Every author stores in three units (rotating), so pages span schemas.
  for (const [index, author] of authors.entries()) {
    for (let n = 0; n < 3; n++) {
      const unit = UNITS[(index + n) % UNITS.length]!;
      const stored = await harness.call(author, STORE, {
        unitId: unit.id,
        input: { title: `Record ${n} of author ${index}`, content: 'Loader cost check', tags: ['loaders'] },
      });
      expect(stored.errors).toBeUndefined();
    }
  }
});

afterAll(async () => {
  await harness?.stop();
});

const STORE = /* GraphQL */ `
  mutation Store($unitId: ID!, $input: UnitRecordInput!) {
    storeRecord(unitId: $unitId, input: $input) {
      id
    }
  }
`;

const RECORD_ENTITIES = /* GraphQL */ `
  query Records($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on UnitRecord {
        id
        title
        unit {
          id
          name
        }
        author {
          id
        }
      }
    }
  }
`;

const USER_ENTITIES = /* GraphQL */ `
  query Users($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on User {
        id
        storedRecords(first: 2) {
          totalCount
          pageInfo {
            hasNextPage
          }
          edges {
            node {
              id
              unit {
                id
              }
            }
          }
        }
      }
    }
  }
`;

/** Runs one operation as `identity` and returns how many SQL statements it cost. */
async function statementsFor<T>(
  query: string,
  variables: Record<string, unknown>,
): Promise<{ count: number; data: T }> {
  const before = statements;
  const response = await harness.call<T>(userIdentity(), query, variables);
  expect(response.errors).toBeUndefined();
  return { count: statements - before, data: response.data! };
}

describe('loaders keep entity resolution constant-cost', () => {
  it('seeds enough records across units for the batches', () => {
    expect(records.length).toBeGreaterThanOrEqual(100);
    expect(new Set(records.map((record) => record.unitId)).size).toBe(UNITS.length);
  });

  it('resolves 100 UnitRecord representations from every unit in 2 statements, as it does 5', async () => {
    // Interleave units so one batch spans every schema.
    const spread = [...records].sort((a, b) => a.id.localeCompare(b.id)).slice(0, 100);
    expect(new Set(spread.map((record) => record.unitId)).size).toBeGreaterThan(3);
    const small = await statementsFor<{ _entities: unknown[] }>(RECORD_ENTITIES, {
      representations: spread.slice(0, 5).map(({ id }) => ({ __typename: 'UnitRecord', id })),
    });
    const large = await statementsFor<{ _entities: Array<{ id: string; unit: { id: string } } | null> }>(
      RECORD_ENTITIES,
      { representations: spread.map(({ id }) => ({ __typename: 'UnitRecord', id })) },
    );
    expect(large.data._entities).toHaveLength(100);
    expect(large.data._entities.map((entity) => entity?.id)).toEqual(spread.map((record) => record.id));
    expect(large.data._entities.map((entity) => entity?.unit.id)).toEqual(spread.map((record) => record.unitId));
    // One UNION ALL over the unit schemas for the records, one registry read for the units.
    expect(large.count).toBe(2);
    expect(small.count).toBe(large.count);
  });

  it('pages User.storedRecords for 6 users in 3 statements, as it does for 1', async () => {
    const one = await statementsFor<{ _entities: unknown[] }>(USER_ENTITIES, {
      representations: [{ __typename: 'User', id: authors[0]!.userId }],
    });
    const many = await statementsFor<{
      _entities: Array<{
        id: string;
        storedRecords: { totalCount: number; edges: unknown[]; pageInfo: { hasNextPage: boolean } };
      }>;
    }>(USER_ENTITIES, {
      representations: authors.map((author) => ({ __typename: 'User', id: author.userId })),
    });
    for (const user of many.data._entities) {
      expect(user.storedRecords.totalCount).toBe(3);
      expect(user.storedRecords.edges).toHaveLength(2);
      expect(user.storedRecords.pageInfo.hasNextPage).toBe(true);
    }
    // One page query for every author, one count query, one registry read for the units.
    expect(many.count).toBe(3);
    expect(one.count).toBe(many.count);
  });
});
