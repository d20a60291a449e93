import { requireIntInRange, requireText } from '@supergraph/kit';
import { badUserInput } from '@supergraph/platform';
import type { KnowledgeInput, KnowledgeUpdateInput } from './generated/resolvers.ts';
import type { EntryPatch } from './entries.repository.ts';
import type { NewEntry } from './knowledge.table.ts';

export const LIMITS = Object.freeze({
  queryChars: 500,
  questionChars: 500,
  pageMax: 100,
  titleChars: 500,
  bodyBytes: 100 * 1024,
  tags: 20,
  tagChars: 64,
  topicChars: 64,
  sourceChars: 200,
  externalIdChars: 200,
  batchMax: 1000,
  /** Ranking is capped (README, "Search at scale"): no page starts deeper than this. */
  searchOffsetMax: 10_000,
});

/** C0 controls other than tab/newline/CR, and DEL: PostgreSQL rejects NUL, and STX/ETX mark highlights in snippets. */
function hasControlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true;
  }
  return false;
}

function plainText(value: string, field: string): string {
  if (hasControlCharacter(value)) throw badUserInput(`${field} must not contain control characters`, field);
  return value;
}

export function validateQuery(value: string, field = 'query'): string {
  return plainText(requireText(value, field, { max: LIMITS.queryChars }), field);
}

export function validateFirst(value: number, field = 'first'): number {
  return requireIntInRange(value, field, 1, LIMITS.pageMax);
}

export function validateTopic(value: string | null | undefined, field = 'topic'): string | null {
  if (value === null || value === undefined) return null;
  return plainText(requireText(value, field, { max: LIMITS.topicChars }), field);
}

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

function validateLanguage(value: string, field: string): string {
  const language = value.trim();
  if (!LANGUAGE.test(language) || language.length > 35)
    throw badUserInput(`${field} must be a language tag like "en" or "pt-BR"`, field);
  return language;
}

function validateTags(value: readonly string[], field: string): string[] {
  if (value.length > LIMITS.tags) throw badUserInput(`${field} must hold at most ${LIMITS.tags} tags`, field);
  const tags = value.map((tag, index) =>
    plainText(requireText(tag, `${field}.${index}`, { max: LIMITS.tagChars }), `${field}.${index}`),
  );
  return [...new Set(tags)];
}

function validateBody(value: string, field: string): string {
  if (Buffer.byteLength(value, 'utf8') > LIMITS.bodyBytes)
    throw badUserInput(`${field} must be at most ${LIMITS.bodyBytes} bytes`, field);
  return plainText(value, field);
}

function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  if (value === null || value === undefined) return null;
  return plainText(requireText(value, field, { max }), field);
}

/** A validated new entry; `field` prefixes error paths (`input`, `inputs.3`). */
export function validateKnowledgeInput(input: KnowledgeInput, field: string, authorId: string | null): NewEntry {
  return {
    title: plainText(requireText(input.title, `${field}.title`, { max: LIMITS.titleChars }), `${field}.title`),
    body: validateBody(input.body ?? '', `${field}.body`),
    topic: validateTopic(input.topic, `${field}.topic`),
    tags: validateTags(input.tags ?? [], `${field}.tags`),
    source: optionalText(input.source, `${field}.source`, LIMITS.sourceChars),
    language: input.language == null ? 'en' : validateLanguage(input.language, `${field}.language`),
    external_id: optionalText(input.externalId, `${field}.externalId`, LIMITS.externalIdChars),
    author_id: authorId,
  };
}

/** A validated batch: 1 to `LIMITS.batchMax` entries, no `externalId` twice. */
export function validateKnowledgeBatch(
  inputs: readonly KnowledgeInput[],
  field: string,
  authorId: string | null,
): NewEntry[] {
  if (inputs.length === 0) throw badUserInput(`${field} must hold at least one entry`, field);
  if (inputs.length > LIMITS.batchMax)
    throw badUserInput(`${field} must hold at most ${LIMITS.batchMax} entries`, field);
  const entries = inputs.map((input, index) => validateKnowledgeInput(input, `${field}.${index}`, authorId));
  const externalIds = entries.flatMap((entry) => (entry.external_id ? [entry.external_id] : []));
  if (new Set(externalIds).size !== externalIds.length) throw badUserInput(`${field} repeat an externalId`, field);
  return entries;
}

/** Only the fields given change; `topic: null` / `source: null` clear them, the others may not be null. */
export function validateKnowledgeUpdate(input: KnowledgeUpdateInput, field = 'input'): EntryPatch {
  const patch: EntryPatch = {};
  if (input.title !== undefined) {
    if (input.title === null) throw badUserInput(`${field}.title must not be null`, `${field}.title`);
    patch.title = plainText(requireText(input.title, `${field}.title`, { max: LIMITS.titleChars }), `${field}.title`);
  }
  if (input.body !== undefined) patch.body = validateBody(input.body ?? '', `${field}.body`);
  if (input.topic !== undefined) patch.topic = validateTopic(input.topic, `${field}.topic`);
  if (input.tags !== undefined) patch.tags = validateTags(input.tags ?? [], `${field}.tags`);
  if (input.source !== undefined) patch.source = optionalText(input.source, `${field}.source`, LIMITS.sourceChars);
  if (input.language !== undefined) {
    if (input.language === null) throw badUserInput(`${field}.language must not be null`, `${field}.language`);
    patch.language = validateLanguage(input.language, `${field}.language`);
  }
  if (Object.keys(patch).length === 0) throw badUserInput(`${field} must change at least one field`, field);
  return patch;
}
