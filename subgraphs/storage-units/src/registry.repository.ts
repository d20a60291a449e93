import type { Kysely } from 'kysely';
import type { StorageDb, UnitRow } from './storage.table.ts';
import { REGISTRY_SCHEMA, UNITS, type StorageUnitDefinition } from './units.ts';

/** Upserts the registry rows from `units.ts` (start-up and seed); `created_at` keeps its first value. */
export async function syncUnitRegistry(
  db: Kysely<StorageDb>,
  units: readonly StorageUnitDefinition[] = UNITS,
): Promise<void> {
  if (units.length === 0) return;
  await db
    .withSchema(REGISTRY_SCHEMA)
    .insertInto('units')
    .values(
      units.map((unit) => ({
        id: unit.id,
        name: unit.name,
        description: unit.description,
        domains: [...unit.topicDomains],
        schema_name: unit.schema,
      })),
    )
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        description: eb.ref('excluded.description'),
        domains: eb.ref('excluded.domains'),
        schema_name: eb.ref('excluded.schema_name'),
      })),
    )
    .execute();
}

export async function listRegistryUnits(db: Kysely<StorageDb>): Promise<UnitRow[]> {
  return db.withSchema(REGISTRY_SCHEMA).selectFrom('units').selectAll().orderBy('id').execute();
}
