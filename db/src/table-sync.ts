import type { Selectable } from 'kysely';

type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;

/**
 * `true` when hand-written Kysely tables (`*.table.ts`, with precise column
 * types) describe exactly the tables and columns the migrations create
 * (`generated/db.ts`), and every selected hand type fits the database type.
 * Otherwise a tuple naming the first mismatch, so `const check: true = …` fails
 * type-checking with a readable message.
 *
 * @example
 * const tablesInSync: TablesMatch<AuthDb, AuthSchema> = true;
 */
export type TablesMatch<Hand, Generated> =
  SameKeys<Hand, Generated> extends false
    ? ['tables differ', Exclude<keyof Hand, keyof Generated> | Exclude<keyof Generated, keyof Hand>]
    : {
          [T in keyof Generated & keyof Hand]: SameKeys<Hand[T], Generated[T]> extends false
            ? [
                'columns differ in',
                T,
                Exclude<keyof Hand[T], keyof Generated[T]> | Exclude<keyof Generated[T], keyof Hand[T]>,
              ]
            : {
                [C in keyof Selectable<Hand[T]> & keyof Selectable<Generated[T]>]: Selectable<
                  Hand[T]
                >[C] extends Selectable<Generated[T]>[C]
                  ? never
                  : ['column type differs', T, C];
              }[keyof Selectable<Hand[T]> & keyof Selectable<Generated[T]>];
        }[keyof Generated & keyof Hand] extends infer Problem
      ? [Problem] extends [never]
        ? true
        : Problem
      : never;
