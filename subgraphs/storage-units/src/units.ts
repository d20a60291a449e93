/**
 * The storage units: the ONLY list of them. Each unit is its own PostgreSQL
 * schema with the same tables (`migrations/unit`); `databaseSpec` and the
 * registry rows in `storage_registry.units` are derived from this list, so
 * adding a unit is one entry here followed by `npm run migrate` and `npm run seed`.
 */
export interface StorageUnitDefinition {
  /** Public id, stable forever (clients store it): lowercase letters, e.g. `physics`. */
  id: string;
  name: string;
  description: string;
  /** PostgreSQL schema holding the unit's tables: `<id>_unit`. */
  schema: string;
  /** WordNet topic domains (`;c` pointers) whose synsets seed the unit. Checked with `scripts/list-topic-domains.ts`. */
  topicDomains: readonly string[];
  /**
   * Extra seed selector for units whose topic domains are thin in WordNet
   * (quantum has ~10 synsets by domain): a synset whose definition matches joins too.
   */
  glossPattern?: RegExp;
}

export const UNITS: readonly StorageUnitDefinition[] = Object.freeze([
  {
    id: 'physics',
    name: 'Physics Unit',
    description: 'Classical mechanics, thermodynamics, optics, acoustics and electricity',
    schema: 'physics_unit',
    topicDomains: [
      'physics',
      'mechanics',
      'thermodynamics',
      'optics',
      'acoustics',
      'electricity',
      'physical chemistry',
    ],
  },
  {
    id: 'quantum',
    name: 'Quantum Unit',
    description: 'Quantum theory, particle and nuclear physics, relativity',
    schema: 'quantum_unit',
    topicDomains: ['quantum theory', 'particle physics', 'nuclear physics', 'relativity'],
    glossPattern:
      /\b(quantum|subatomic|elementary particles?|quarks?|leptons?|bosons?|fermions?|hadrons?|isotopes?|radioactiv\w*|nuclear fission|nuclear fusion)\b/i,
  },
  {
    id: 'space',
    name: 'Space Unit',
    description: 'Astronomy, cosmology, aeronautics and spaceflight',
    schema: 'space_unit',
    topicDomains: ['astronomy', 'cosmology', 'aeronautics', 'spaceflight'],
    glossPattern: /\b(spacecraft|galax(y|ies)|planets?|constellations?|orbits?|astronauts?)\b/i,
  },
  {
    id: 'crypto',
    name: 'Crypto Unit',
    description: 'Cryptography, computer science and computing',
    schema: 'crypto_unit',
    topicDomains: [
      'computer science',
      'computer',
      'programming',
      'computer graphics',
      'information science',
      'computer technology',
    ],
    glossPattern: /\b(cipher\w*|cryptograph\w*|encrypt\w*|decrypt\w*|ciphertext|cryptanalysis)\b/i,
  },
  {
    id: 'medical',
    name: 'Medical Unit',
    description: 'Medicine, pathology, surgery, anatomy and the clinical specialties',
    schema: 'medical_unit',
    topicDomains: [
      'medicine',
      'pathology',
      'surgery',
      'anatomy',
      'physiology',
      'psychiatry',
      'dentistry',
      'obstetrics',
      'immunology',
      'ophthalmology',
      'pharmacology',
      'neurology',
      'radiology',
      'veterinary medicine',
    ],
  },
  {
    id: 'reason',
    name: 'Reason Unit',
    description: 'Psychology, philosophy, ethics and the study of the mind',
    schema: 'reason_unit',
    topicDomains: [
      'psychology',
      'philosophy',
      'psychoanalysis',
      'ethics',
      'metaphysics',
      'psychophysics',
      'psychotherapy',
      'neuroscience',
    ],
  },
  {
    id: 'logic',
    name: 'Logic Unit',
    description: 'Logic, mathematics, statistics and geometry',
    schema: 'logic_unit',
    topicDomains: ['logic', 'mathematics', 'statistics', 'geometry', 'arithmetic', 'algebra', 'matrix algebra'],
  },
] satisfies StorageUnitDefinition[]);

/** Where the unit metadata lives (one small table, `units`). */
export const REGISTRY_SCHEMA = 'storage_registry';

const unitsById: ReadonlyMap<string, StorageUnitDefinition> = new Map(UNITS.map((unit) => [unit.id, unit]));

export function findUnit(id: string): StorageUnitDefinition | undefined {
  return unitsById.get(id);
}

export const UNIT_IDS: readonly string[] = UNITS.map((unit) => unit.id);

/**
 * Refuses a malformed list at import time: schema names end up in raw SQL
 * identifiers (quoted with `sql.id`, but a typo should fail loudly, not create a stray schema).
 */
function assertWellFormed(units: readonly StorageUnitDefinition[]): void {
  const seen = new Set<string>();
  for (const unit of units) {
    if (!/^[a-z][a-z0-9]{1,30}$/.test(unit.id))
      throw new Error(`storage unit id ${JSON.stringify(unit.id)} must be lowercase letters/digits`);
    if (unit.schema !== `${unit.id}_unit`) throw new Error(`storage unit ${unit.id} must use schema ${unit.id}_unit`);
    if (seen.has(unit.id)) throw new Error(`duplicate storage unit id ${unit.id}`);
    seen.add(unit.id);
  }
}
assertWellFormed(UNITS);
