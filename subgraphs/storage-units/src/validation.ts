import { requireIntInRange, requireText } from '@supergraph/kit';
import { badUserInput, notFound } from '@supergraph/platform';
import type { UnitRecordInput } from './generated/resolvers.ts';
import { findUnit, UNIT_IDS, type StorageUnitDefinition } from './units.ts';

export const LIMITS = Object.freeze({
  queryMaxChars: 500,
  firstMax: 100,
  titleMaxChars: 500,
  contentMaxBytes: 64 * 1024,
  tagsMax: 20,
  tagMaxChars: 64,
  sourceMaxChars: 200,
});

/**
 * Control characters other than tab and line breaks are refused: NUL cannot be
 * stored in PostgreSQL text at all, and STX/ETX mark matches in search snippets.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function rejectControlCharacters(value: string, field: string): string {
  if (CONTROL_CHARACTERS.test(value)) throw badUserInput(`${field} must not contain control characters`, field);
  return value;
}

/** The unit or NOT_FOUND listing the valid ids (message and `extensions.validUnitIds`). */
export function requireUnit(unitId: string, field = 'unitId'): StorageUnitDefinition {
  const unit = findUnit(unitId);
  if (unit) return unit;
  const shown = unitId.length > 64 ? `${unitId.slice(0, 64)}…` : unitId;
  throw notFound(`Unknown storage unit ${JSON.stringify(shown)}; valid ids: ${UNIT_IDS.join(', ')}`, {
    validUnitIds: [...UNIT_IDS],
    field,
  });
}

export function requireSearchQuery(query: string, field = 'query'): string {
  return rejectControlCharacters(requireText(query, field, { max: LIMITS.queryMaxChars }), field);
}

export function requireFirst(first: number | null | undefined, field = 'first'): number {
  return requireIntInRange(first ?? 20, field, 1, LIMITS.firstMax);
}

export interface ValidRecordInput {
  title: string;
  content: string;
  tags: string[];
  source: string;
}

/** Validates and normalises `UnitRecordInput`: trimmed title/tags/source, tags de-duplicated in order. */
export function requireRecordInput(input: UnitRecordInput): ValidRecordInput {
  const title = rejectControlCharacters(
    requireText(input.title, 'input.title', { max: LIMITS.titleMaxChars }),
    'input.title',
  );
  const content = rejectControlCharacters(input.content, 'input.content');
  if (content.trim().length === 0) throw badUserInput('input.content must not be empty', 'input.content');
  if (Buffer.byteLength(content, 'utf8') > LIMITS.contentMaxBytes) {
    throw badUserInput(`input.content must be at most ${LIMITS.contentMaxBytes} bytes (64 KiB)`, 'input.content');
  }
  const rawTags = input.tags ?? [];
  if (rawTags.length > LIMITS.tagsMax)
    throw badUserInput(`input.tags must have at most ${LIMITS.tagsMax} tags`, 'input.tags');
  const tags: string[] = [];
  rawTags.forEach((tag, index) => {
    const field = `input.tags.${index}`;
    const text = rejectControlCharacters(requireText(tag, field, { max: LIMITS.tagMaxChars }), field);
    if (!tags.includes(text)) tags.push(text);
  });
  const source =
    input.source === null || input.source === undefined
      ? 'api'
      : rejectControlCharacters(
          requireText(input.source, 'input.source', { max: LIMITS.sourceMaxChars }),
          'input.source',
        );
  return { title, content, tags, source };
}
