import { describe, expect, it } from 'vitest';
import type { WordnetSynset } from '@supergraph/seeding';
import { synsetMatchesUnit } from './seed.ts';
import { databaseSpec } from './server.ts';
import { findUnit, UNITS } from './units.ts';
import { LIMITS, requireFirst, requireRecordInput, requireSearchQuery, requireUnit } from './validation.ts';

function codeAndField(run: () => unknown): { code: unknown; field: unknown } {
  try {
    run();
  } catch (error) {
    const extensions = (error as { extensions?: Record<string, unknown> }).extensions ?? {};
    return { code: extensions['code'], field: extensions['field'] };
  }
  throw new Error('expected a GraphQL error');
}

describe('units.ts', () => {
  it('derives one schema per unit, all migrated from the same folder, plus the registry', () => {
    expect(UNITS.map((unit) => unit.schema)).toEqual([
      'physics_unit',
      'quantum_unit',
      'space_unit',
      'crypto_unit',
      'medical_unit',
      'reason_unit',
      'logic_unit',
    ]);
    expect(databaseSpec.role).toBe('supergraph_storage_units');
    expect(databaseSpec.schemas[0]?.schema).toBe('storage_registry');
    const unitDirs = new Set(databaseSpec.schemas.slice(1).map((entry) => entry.migrationsDir));
    expect(unitDirs.size).toBe(1);
    expect([...unitDirs][0]).toMatch(/migrations[\\/]unit$/);
  });

  it('routes synsets by topic domain or definition pattern', () => {
    const synset = (topicDomains: string[], gloss = 'a thing'): WordnetSynset => ({
      id: 'n1',
      pos: 'n',
      lemmas: ['x'],
      title: 'x',
      gloss,
      lexFile: 'noun.Tops',
      topicDomains,
    });
    expect(synsetMatchesUnit(synset(['thermodynamics']), findUnit('physics')!)).toBe(true);
    expect(synsetMatchesUnit(synset(['law']), findUnit('physics')!)).toBe(false);
    expect(synsetMatchesUnit(synset([], 'a hypothetical subatomic particle'), findUnit('quantum')!)).toBe(true);
    expect(synsetMatchesUnit(synset([], 'a hypothetical subatomic particle'), findUnit('logic')!)).toBe(false);
  });
});

describe('validation', () => {
  it('names the valid ids for an unknown unit', () => {
    expect(requireUnit('physics').schema).toBe('physics_unit');
    try {
      requireUnit('x'.repeat(1000));
      expect.unreachable();
    } catch (error) {
      const { message, extensions } = error as { message: string; extensions: Record<string, unknown> };
      expect(extensions['code']).toBe('NOT_FOUND');
      expect(extensions['validUnitIds']).toEqual(UNITS.map((unit) => unit.id));
      expect(message.length).toBeLessThan(200);
    }
  });

  it('bounds queries and page sizes', () => {
    expect(requireSearchQuery('  quark  ')).toBe('quark');
    expect(requireSearchQuery('q'.repeat(500))).toHaveLength(500);
    expect(codeAndField(() => requireSearchQuery(' '))).toEqual({ code: 'BAD_USER_INPUT', field: 'query' });
    expect(codeAndField(() => requireSearchQuery('q'.repeat(501)))).toEqual({ code: 'BAD_USER_INPUT', field: 'query' });
    expect(requireFirst(undefined)).toBe(20);
    expect(requireFirst(100)).toBe(100);
    expect(codeAndField(() => requireFirst(0))).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(codeAndField(() => requireFirst(101))).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('normalises and bounds record input', () => {
    expect(requireRecordInput({ title: ' T ', content: 'c', tags: [' a ', 'a', 'b'] })).toEqual({
      title: 'T',
      content: 'c',
      tags: ['a', 'b'],
      source: 'api',
    });
    // 64 KiB is measured in UTF-8 bytes, not characters.
    expect(
      codeAndField(() => requireRecordInput({ title: 't', content: '€'.repeat(LIMITS.contentMaxBytes / 3 + 1) })),
    ).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'input.content',
    });
    expect(codeAndField(() => requireRecordInput({ title: 't', content: 'c', source: '' }))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'input.source',
    });
    expect(codeAndField(() => requireRecordInput({ title: 't\u0000', content: 'c' }))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'input.title',
    });
  });
});
