import { requireIntInRange, requireText } from '@supergraph/kit';
import { badUserInput } from '@supergraph/platform';
import type { NewDroid, ProviderKind } from './conversation.table.ts';

export const LIMITS = Object.freeze({
  pageMax: 100,
  nameChars: 100,
  personaChars: 4000,
  titleChars: 200,
  contentChars: 4000,
  baseUrlChars: 500,
  modelChars: 200,
});

/**
 * The storage units a droid may search. Copied from
 * `subgraphs/storage-units/src/units.ts` (the one list of units) because a
 * subgraph never imports another's code; a unit added there is unknown here
 * until it is added to this list too (retrieval goes through the gateway, so
 * nothing else changes).
 */
export const STORAGE_UNIT_IDS: readonly string[] = Object.freeze([
  'physics',
  'quantum',
  'space',
  'crypto',
  'medical',
  'reason',
  'logic',
]);

/** C0 controls other than tab/newline/CR, and DEL: none belongs in stored text. */
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

export function validateFirst(value: number, field = 'first'): number {
  return requireIntInRange(value, field, 1, LIMITS.pageMax);
}

export function validateName(value: string | null | undefined, field: string): string {
  if (value === null || value === undefined) throw badUserInput(`${field} must not be null`, field);
  return plainText(requireText(value, field, { max: LIMITS.nameChars }), field);
}

export function validatePersona(value: string | null | undefined, field: string): string {
  if (value === null || value === undefined) return '';
  return plainText(requireText(value, field, { min: 0, max: LIMITS.personaChars, trim: false }), field);
}

export function validateTitle(value: string | null | undefined, field = 'title'): string | null {
  if (value === null || value === undefined) return null;
  return plainText(requireText(value, field, { max: LIMITS.titleChars }), field);
}

/** A message as sent: 1-4,000 characters, kept exactly (no trimming), but not blank. */
export function validateContent(value: string, field = 'content'): string {
  if (value.trim().length === 0) throw badUserInput(`${field} must not be empty`, field);
  if (value.length > LIMITS.contentChars)
    throw badUserInput(`${field} must be at most ${LIMITS.contentChars} characters`, field);
  return plainText(value, field);
}

export interface KnowledgeScopeInput {
  knowledgeBase?: boolean | null | undefined;
  storageUnits?: readonly string[] | null | undefined;
}

export interface ProviderInput {
  kind?: ProviderKind | null | undefined;
  baseUrl?: string | null | undefined;
  model?: string | null | undefined;
}

function validateScope(scope: KnowledgeScopeInput, field: string): Pick<NewDroid, 'knowledge_base' | 'storage_units'> {
  const units = scope.storageUnits ?? [];
  if (units.length > STORAGE_UNIT_IDS.length)
    throw badUserInput(
      `${field}.storageUnits must hold at most ${STORAGE_UNIT_IDS.length} units`,
      `${field}.storageUnits`,
    );
  for (const unit of units) {
    if (!STORAGE_UNIT_IDS.includes(unit))
      throw badUserInput(
        `${field}.storageUnits: unknown unit "${unit.slice(0, 40)}" (known: ${STORAGE_UNIT_IDS.join(', ')})`,
        `${field}.storageUnits`,
      );
  }
  return { knowledge_base: scope.knowledgeBase ?? true, storage_units: [...new Set(units)] };
}

function validateBaseUrl(value: string | null | undefined, field: string): string {
  if (value === null || value === undefined || value.trim() === '')
    throw badUserInput(`${field} is required for OPENAI_COMPATIBLE`, field);
  const text = value.trim();
  if (text.length > LIMITS.baseUrlChars)
    throw badUserInput(`${field} must be at most ${LIMITS.baseUrlChars} characters`, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUserInput(`${field} must be an http or https URL`, field);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw badUserInput(`${field} must be an http or https URL`, field);
  if (url.username || url.password) throw badUserInput(`${field} must not contain credentials`, field);
  return text.replace(/\/+$/, '');
}

function validateProvider(provider: ProviderInput, field: string): Pick<NewDroid, 'provider' | 'base_url' | 'model'> {
  const kind = provider.kind ?? 'GROUNDED';
  if (kind === 'GROUNDED') {
    if (provider.baseUrl != null || provider.model != null)
      throw badUserInput(`${field}: baseUrl and model are for OPENAI_COMPATIBLE only`, field);
    return { provider: kind, base_url: null, model: null };
  }
  const model = provider.model;
  if (model === null || model === undefined)
    throw badUserInput(`${field}.model is required for OPENAI_COMPATIBLE`, `${field}.model`);
  return {
    provider: kind,
    base_url: validateBaseUrl(provider.baseUrl, `${field}.baseUrl`),
    model: plainText(requireText(model, `${field}.model`, { max: LIMITS.modelChars }), `${field}.model`),
  };
}

export interface DroidFields {
  name: string;
  persona: string;
  knowledge_base: boolean;
  storage_units: string[];
  provider: ProviderKind;
  base_url: string | null;
  model: string | null;
}

export function validateCreateDroid(input: {
  name: string;
  persona?: string | null | undefined;
  knowledgeScope?: KnowledgeScopeInput | null | undefined;
  provider?: ProviderInput | null | undefined;
}): DroidFields {
  const scope = validateScope(input.knowledgeScope ?? {}, 'input.knowledgeScope');
  return {
    name: validateName(input.name, 'input.name'),
    persona: validatePersona(input.persona, 'input.persona'),
    knowledge_base: scope.knowledge_base ?? true,
    storage_units: scope.storage_units ?? [],
    ...(validateProvider(input.provider ?? {}, 'input.provider') as Pick<
      DroidFields,
      'provider' | 'base_url' | 'model'
    >),
  };
}

/** Only the fields given change; `knowledgeScope` and `provider` are replaced whole. */
export function validateUpdateDroid(input: {
  name?: string | null | undefined;
  persona?: string | null | undefined;
  knowledgeScope?: KnowledgeScopeInput | null | undefined;
  provider?: ProviderInput | null | undefined;
}): Partial<DroidFields> {
  const patch: Partial<DroidFields> = {};
  if (input.name !== undefined) patch.name = validateName(input.name, 'input.name');
  if (input.persona !== undefined) {
    if (input.persona === null) throw badUserInput('input.persona must not be null', 'input.persona');
    patch.persona = validatePersona(input.persona, 'input.persona');
  }
  if (input.knowledgeScope !== undefined) {
    if (input.knowledgeScope === null)
      throw badUserInput('input.knowledgeScope must not be null', 'input.knowledgeScope');
    Object.assign(patch, validateScope(input.knowledgeScope, 'input.knowledgeScope'));
  }
  if (input.provider !== undefined) {
    if (input.provider === null) throw badUserInput('input.provider must not be null', 'input.provider');
    Object.assign(patch, validateProvider(input.provider, 'input.provider'));
  }
  if (Object.keys(patch).length === 0) throw badUserInput('input must change at least one field', 'input');
  return patch;
}
