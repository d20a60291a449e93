import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';

/**
 * Calls `onQuery` once per executed statement (query builder or raw `sql`):
 * Kysely hands every result through plugins. Tests use it to prove that
 * loaders keep a page of N entities at a constant number of queries.
 *
 * @example
 * const db = database.db.withPlugin(new QueryObserver(() => count++));
 */
export class QueryObserver implements KyselyPlugin {
  readonly #onQuery: () => void;

  constructor(onQuery: () => void) {
    this.#onQuery = onQuery;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.#onQuery();
    return args.result;
  }
}
