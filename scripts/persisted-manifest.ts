import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Supergraph } from '@apollo/federation-internals';
import { parse, Source, validate, type DocumentNode } from 'graphql';
import { manifestOperationsOf, manifestText, supergraphForQueryPlanner } from '@supergraph/gateway';

/**
 * `npm run manifest`: writes `clients/mobile/persisted-query-manifest.json`
 * from `clients/mobile/operations/*.graphql`, ids and bodies exactly as
 * `@apollo/generate-persisted-query-manifest` computes them by default.
 * `--check` (CI) writes nothing and exits 1 when the manifest is stale or an
 * operation no longer validates against the API schema of
 * `schema/supergraph.graphql` (what the gateway serves: `@inaccessible` removed).
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const operationsDir = path.join(root, 'clients', 'mobile', 'operations');
const manifestPath = path.join(root, 'clients', 'mobile', 'persisted-query-manifest.json');
const check = process.argv.includes('--check');

const files = readdirSync(operationsDir)
  .filter((file) => file.endsWith('.graphql'))
  .sort();
const documents: DocumentNode[] = files.map((file) =>
  parse(new Source(readFileSync(path.join(operationsDir, file), 'utf8'), path.join('clients/mobile/operations', file))),
);

const problems: string[] = [];
// The same copy the gateway plans with (its SECURITY links made plain metadata, which federation-internals accepts).
const supergraphSdl = readFileSync(path.join(root, 'schema', 'supergraph.graphql'), 'utf8');
const apiSchema = Supergraph.build(supergraphForQueryPlanner(parse(supergraphSdl)))
  .apiSchema()
  .toGraphQLJSSchema();
const operations = manifestOperationsOf(documents);
for (const operation of operations) {
  for (const error of validate(apiSchema, parse(operation.body)))
    problems.push(`${operation.name}: ${error.message} (against schema/supergraph.graphql)`);
}

const text = manifestText(operations);
const relative = path.relative(root, manifestPath);
if (check) {
  let current = '';
  try {
    current = readFileSync(manifestPath, 'utf8');
  } catch {
    current = '';
  }
  if (current !== text) problems.push(`${relative} is stale: run \`npm run manifest\``);
} else if (problems.length === 0) {
  writeFileSync(manifestPath, text);
  console.log(`${relative}: ${operations.length} operations from ${files.length} files`);
}

if (problems.length > 0) {
  console.error(problems.map((problem) => `  - ${problem}`).join('\n'));
  process.exit(1);
}
if (check) console.log(`${relative} is fresh; ${operations.length} operations validate`);
