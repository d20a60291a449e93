/**
 * Search benchmark of the knowledge subgraph on real PostgreSQL.
 *
 * Loads WordNet 3.1 (~118k entries) and grows it to 1,000,000 entries in SQL
 * (every synset copied with a numbered title and another synset's title mixed
 * into its body), into a throw-away database, then measures ranked top-20
 * search for rare, medium and very common terms:
 *   - through the subgraph (HTTP, internal token, GraphQL) — the real resolver,
 *   - the resolver's SQL called directly (no HTTP/GraphQL),
 *   - naive baselines: `ts_rank` over every match ordered, and `ILIKE '%term%'`.
 * Prints p50/p95 per class and how many of the exact top 20 the search returns
 * (very common terms come from the precomputed per-lexeme top lists, rebuilt
 * after the growth; the time of that rebuild is printed too). Stops by itself (a few minutes); the database is dropped at the end.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm exec -- node test/bench/knowledge.bench.ts
 *   BENCH_ENTRIES=300000 … (smaller corpus)   BENCH_REPS=20 (samples per term, subgraph and SQL)
 *   BENCH_KEEP_DATABASE=1 keeps the database (prints its URL); BENCH_DATABASE_URL=<that URL> reuses it.
 */
import { createDatabase, createTestDatabase, migrateAll, type TestDatabase } from '@supergraph/db';
import {
  generateInternalKeyPair,
  importInternalSigningKey,
  importInternalVerifyKey,
  INTERNAL_TOKEN_HEADER,
  loadScopeCatalog,
  scopesForRoles,
  signInternalToken,
  type Identity,
} from '@supergraph/platform';
import { databaseSpec, DEFAULT_SEARCH_SETTINGS, seedKnowledge, startKnowledgeSubgraph } from '@supergraph/knowledge';
import { sql, type Kysely } from 'kysely';
import { refreshFrequentLexemes } from '../../subgraphs/knowledge/src/frequent-lexemes.repository.ts';
import { searchEntries } from '../../subgraphs/knowledge/src/search.service.ts';
import type { KnowledgeDb } from '../../subgraphs/knowledge/src/knowledge.table.ts';

const RERUN = 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm exec -- node test/bench/knowledge.bench.ts';
const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) {
  console.error(`DATABASE_URL is required (real PostgreSQL). Run:\n  ${RERUN}`);
  process.exit(2);
}
const TARGET_ENTRIES = Number(process.env['BENCH_ENTRIES'] ?? 1_000_000);
const REPS = Number(process.env['BENCH_REPS'] ?? 20);
const NAIVE_REPS = Number(process.env['BENCH_NAIVE_REPS'] ?? 2);
const TERMS_PER_CLASS = 5;
const PAGE = 20;

const CLASSES = [
  { name: 'rare', min: 2, max: 4 },
  { name: 'medium', min: 120, max: 300 },
  { name: 'very common', min: 4000, max: 1_000_000 },
] as const;

const reuseUrl = process.env['BENCH_DATABASE_URL'];
const keep = process.env['BENCH_KEEP_DATABASE'] === '1' || reuseUrl !== undefined;
const bench: TestDatabase = reuseUrl
  ? { target: { kind: 'postgres', url: reuseUrl }, url: reuseUrl, drop: async () => {} }
  : await createTestDatabase(adminUrl);
let stopSubgraph: (() => Promise<void>) | undefined;
const cleanup = async () => {
  await stopSubgraph?.().catch(() => {});
  if (keep) {
    console.log(`[bench] database kept: BENCH_DATABASE_URL=${bench.url ?? ''}`);
    return;
  }
  await bench.drop().catch((error: unknown) => console.error('could not drop the bench database', error));
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  await run(bench);
} finally {
  await cleanup();
}

async function run(database: TestDatabase): Promise<void> {
  const started = performance.now();
  await migrateAll(database.target, [databaseSpec]);
  const seeded = await seedKnowledge(database.target, { log: console.log });
  const { db, close } = createDatabase<KnowledgeDb>(database.target, {
    schema: 'knowledge',
    statementTimeoutMs: 0,
    poolMax: 4,
  });
  try {
    const grown = await growCorpus(db, TARGET_ENTRIES);
    console.log(
      `[bench] corpus: ${grown.entries} entries (WordNet seed ${(seeded.durationMs / 1000).toFixed(1)} s, growth + indexes ${(grown.ms / 1000).toFixed(1)} s)`,
    );
    // The growth emptied the lists; a reused database (BENCH_DATABASE_URL) keeps its own.
    const listed = await db.selectFrom('frequent_lexeme_terms').select('lexeme').limit(1).execute();
    if (listed.length === 0) {
      const lists = await refreshFrequentLexemes(db, { minMatches: DEFAULT_SEARCH_SETTINGS.candidateCap });
      console.log(
        `[bench] top lists: ${lists.lexemes} lexemes match more than ${DEFAULT_SEARCH_SETTINGS.candidateCap} entries, ${lists.rows} list rows, rebuilt in ${(lists.durationMs / 1000).toFixed(1)} s`,
      );
    }

    const terms = await pickTerms(db);
    const { privateKeyPem, publicKeyPem } = generateInternalKeyPair();
    const running = await startKnowledgeSubgraph(
      {
        target: database.target,
        internalTokenKey: await importInternalVerifyKey(publicKeyPem),
        rateLimits: { disabled: true },
      },
      0,
    );
    stopSubgraph = running.stop;
    const signingKey = await importInternalSigningKey(privateKeyPem);
    const identity: Identity = {
      userId: crypto.randomUUID(),
      roles: ['user'],
      scopes: scopesForRoles(loadScopeCatalog(), ['user']),
      tier: 'enterprise',
      via: 'jwt',
    };
    let token = { value: '', at: 0 };
    const callSearch = async (query: string) => {
      if (Date.now() - token.at > 20_000)
        token = { value: await signInternalToken(identity, 'knowledge', signingKey), at: Date.now() };
      const response = await fetch(running.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token.value },
        body: JSON.stringify({
          query:
            'query ($q: String!) { searchKnowledge(query: $q, first: 20) { edges { rank snippet node { id title } } } }',
          variables: { q: query },
        }),
      });
      const body = (await response.json()) as {
        errors?: unknown[];
        data?: { searchKnowledge: { edges: Array<{ node: { id: string } }> } };
      };
      if (body.errors) throw new Error(`search failed: ${JSON.stringify(body.errors)}`);
      return body.data!.searchKnowledge.edges.map((edge) => edge.node.id);
    };
    const callSql = async (query: string) =>
      (
        await searchEntries(db, {
          query,
          topic: null,
          limit: PAGE,
          offset: 0,
          candidateCap: DEFAULT_SEARCH_SETTINGS.candidateCap,
          fuzzyBelow: DEFAULT_SEARCH_SETTINGS.fuzzyBelow,
        })
      ).hits.map((hit) => hit.entry.id);
    // The exact reference: every match ranked, entries with a title lemma equal to the term first (rank + 1).
    const naiveRanked = async (term: string) =>
      (
        await sql<{ id: string; rank: number }>`
          select id, ts_rank(search, websearch_to_tsquery('english', ${term}))
                 + (lower(${term}) = any(string_to_array(lower(title), ', ')))::int as rank
            from knowledge.entries
           where search @@ websearch_to_tsquery('english', ${term})
           order by rank desc, id limit ${PAGE}`.execute(db)
      ).rows;
    // Timed: plain `ts_rank` over every match (what ranking without lists or cap costs).
    const naiveRank = async (term: string) =>
      (
        await sql<{ id: string }>`
          select id from knowledge.entries
           where search @@ websearch_to_tsquery('english', ${term})
           order by ts_rank(search, websearch_to_tsquery('english', ${term})) desc, id limit ${PAGE}`.execute(db)
      ).rows.map((row) => row.id);
    const naiveIlike = async (term: string) =>
      (
        await sql<{ id: string }>`
          select id from knowledge.entries where title ilike ${`%${term}%`} or body ilike ${`%${term}%`} limit ${PAGE}`.execute(
          db,
        )
      ).rows.map((row) => row.id);

    // Warm the caches (and the JIT of this process) once per term.
    for (const { words } of terms) for (const word of words) await callSearch(word);

    const floor = await time(['x'], 100, async () => {
      if (Date.now() - token.at > 20_000)
        token = { value: await signInternalToken(identity, 'knowledge', signingKey), at: Date.now() };
      await (
        await fetch(running.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [INTERNAL_TOKEN_HEADER]: token.value },
          body: JSON.stringify({ query: '{ __typename }' }),
        })
      ).json();
    });
    console.log(`[bench] HTTP + GraphQL floor ({ __typename } through the subgraph): ${fmt(floor)}`);

    const rows: string[][] = [];
    for (const { name, words, matches } of terms) {
      const subgraph = await time(words, REPS, callSearch);
      const raw = await time(words, REPS, callSql);
      const ranked = await time(words, NAIVE_REPS, naiveRank);
      const ilike = await time(words, NAIVE_REPS, naiveIlike);
      let overlap = 0;
      let rankMass = 0;
      let sameOrder = 0;
      for (const word of words) {
        const exactRows = await naiveRanked(word);
        const exact = new Set(exactRows.map((row) => row.id));
        const returned = (
          await searchEntries(db, {
            query: word,
            topic: null,
            limit: PAGE,
            offset: 0,
            candidateCap: DEFAULT_SEARCH_SETTINGS.candidateCap,
            fuzzyBelow: DEFAULT_SEARCH_SETTINGS.fuzzyBelow,
          })
        ).hits.filter((hit) => hit.match === 'FULL_TEXT');
        overlap += returned.filter((hit) => exact.has(hit.entry.id)).length / Math.max(1, Math.min(PAGE, exact.size));
        const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
        if (returned.map((hit) => hit.entry.id).join() === exactRows.map((row) => row.id).join()) sameOrder++;
        rankMass +=
          sum(returned.map((hit) => hit.rank)) / Math.max(1e-9, sum(exactRows.map((row) => Number(row.rank))));
      }
      rows.push([
        name,
        words.join(' '),
        `${Math.round(median(matches))}`,
        fmt(subgraph),
        fmt(raw),
        fmt(ranked),
        fmt(ilike),
        `${Math.round((overlap / words.length) * 100)}% / ${Math.round((rankMass / words.length) * 100)}% / ${sameOrder} of ${words.length}`,
      ]);
    }
    // Misspellings: the full-text search finds (almost) nothing, the trigram fallback on titles answers.
    const misspelt = ['fotosynthesis', 'galaxi', 'chlorofyll', 'astronmy', 'elektron'];
    const fuzzyFound = await Promise.all(misspelt.map(async (word) => (await callSql(word)).length));
    rows.push([
      'misspelt (fuzzy)',
      misspelt.join(' '),
      `${Math.round(median(fuzzyFound))} found`,
      fmt(await time(misspelt, REPS, callSearch)),
      fmt(await time(misspelt, REPS, callSql)),
      '-',
      '-',
      '-',
    ]);
    printTable(
      [
        'class',
        'terms',
        'matches (median)',
        'subgraph HTTP p50/p95',
        'resolver SQL p50/p95',
        'naive ts_rank p50/p95',
        'naive ILIKE p50/p95',
        'exact top-20 kept / rank sum / same order',
      ],
      rows,
    );
    console.log(
      `\n${grown.entries} entries; ${REPS} samples per term through the subgraph and its SQL, ${NAIVE_REPS} per term for the baselines; ` +
        `candidate cap ${DEFAULT_SEARCH_SETTINGS.candidateCap} per pass. Total ${((performance.now() - started) / 1000).toFixed(0)} s.`,
    );
    console.log(`rerun: ${RERUN}`);
  } finally {
    await close();
  }
}

/**
 * Grows the corpus to `target` rows in one INSERT … SELECT: copy k of synset n
 * gets the title `<title> (k)` and the body `<gloss>; compare <title of
 * another synset>`. The GIN and trigram indexes are dropped first and rebuilt
 * after (much faster than maintaining them row by row), then ANALYZE.
 */
async function growCorpus(db: Kysely<KnowledgeDb>, target: number): Promise<{ entries: number; ms: number }> {
  const started = performance.now();
  const seedCount = Number(
    (await sql<{ n: string }>`select count(*) as n from knowledge.entries`.execute(db)).rows[0]?.n ?? 0,
  );
  const missing = target - seedCount;
  if (missing > 0) {
    // Secondary indexes are rebuilt after the load (constraint-backed ones stay).
    const indexes = (
      await sql<{ indexname: string; indexdef: string }>`
        select indexname, indexdef from pg_indexes
         where schemaname = 'knowledge' and tablename = 'entries' and indexname not like '%_pkey' and indexname not like '%_key'`.execute(
        db,
      )
    ).rows;
    for (const index of indexes) await sql.raw(`drop index knowledge.${index.indexname}`).execute(db);
    // No top lists during the load (the triggers merging new rows into them idle): rebuilt once afterwards.
    await sql`delete from knowledge.frequent_lexemes`.execute(db);
    await sql`delete from knowledge.frequent_lexeme_terms`.execute(db);
    console.log(`[bench] generating ${missing} entries from ${seedCount} synsets (two statements in parallel)…`);
    const copies = Math.ceil(missing / seedCount);
    const insertCopies = (parity: number) =>
      sql`
      with source as (select row_number() over (order by created_at, id) as n, title, body, topic, tags
                        from knowledge.entries where source = 'wordnet-3.1'),
           total as (select count(*) as n from source)
      insert into knowledge.entries (external_id, title, body, topic, tags, source, language)
      select 'bench:' || copy || ':' || s.n,
             left(s.title || ' (' || copy || ')', 500),
             s.body || '; compare ' || o.title,
             s.topic, s.tags, 'bench', 'en'
        from generate_series(1, ${copies}::int) as copy
        cross join source s
        cross join total
        join source o on o.n = ((s.n * 7919 + copy * 104729) % total.n) + 1
       where copy % 2 = ${parity} and (copy - 1) * total.n + s.n <= ${missing}
    `.execute(db);
    const t = performance.now();
    await Promise.all([insertCopies(0), insertCopies(1)]);
    console.log(
      `[bench] inserted in ${((performance.now() - t) / 1000).toFixed(1)} s; rebuilding ${indexes.length} indexes…`,
    );
    const queue = [...indexes];
    const builder = async () => {
      for (let index = queue.shift(); index; index = queue.shift()) {
        const t0 = performance.now();
        // One simple-protocol round trip, so the setting applies on the connection that builds.
        await sql.raw(`set maintenance_work_mem = '256MB'; ${index.indexdef}`).execute(db);
        console.log(`[bench] ${index.indexname} rebuilt in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    };
    await Promise.all([builder(), builder()]);
  }
  await sql`vacuum analyze knowledge.entries`.execute(db);
  const entries = Number(
    (await sql<{ n: string }>`select count(*) as n from knowledge.entries`.execute(db)).rows[0]?.n ?? 0,
  );
  return { entries, ms: performance.now() - started };
}

/**
 * Terms by how many WordNet entries contain them (ts_stat over the seed),
 * keeping lexemes that the query parser maps to themselves, spread over each
 * class's range. Then their real match counts in the grown corpus.
 */
async function pickTerms(db: Kysely<KnowledgeDb>) {
  const picked: Array<{ name: string; words: string[]; matches: number[] }> = [];
  for (const cls of CLASSES) {
    const { rows } = await sql<{ word: string }>`
      select word from ts_stat('select search from knowledge.entries where source = ''wordnet-3.1''')
       where ndoc between ${cls.min} and ${cls.max} and word ~ '^[a-z]{3,}$'
         and websearch_to_tsquery('english', word)::text = '''' || word || ''''
       order by ndoc desc, word`.execute(db);
    const step = Math.max(1, Math.floor(rows.length / TERMS_PER_CLASS));
    const words = rows
      .filter((_, index) => index % step === 0)
      .slice(0, TERMS_PER_CLASS)
      .map((row) => row.word);
    const matches: number[] = [];
    for (const word of words) {
      const { rows: count } = await sql<{ n: string }>`
        select count(*) as n from knowledge.entries where search @@ websearch_to_tsquery('english', ${word})`.execute(
        db,
      );
      matches.push(Number(count[0]?.n ?? 0));
    }
    picked.push({ name: cls.name, words, matches });
  }
  return picked;
}

async function time(words: readonly string[], reps: number, fn: (word: string) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const word of words) {
      const t = performance.now();
      await fn(word);
      samples.push(performance.now() - t);
    }
  }
  return samples;
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

function fmt(samples: readonly number[]): string {
  const ms = (value: number) => (value < 10 ? value.toFixed(1) : value.toFixed(0));
  return `${ms(percentile(samples, 50))} / ${ms(percentile(samples, 95))} ms`;
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  console.log(`\n${line(header)}\n|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}
