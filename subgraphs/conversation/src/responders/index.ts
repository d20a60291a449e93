import { createGroundedResponder, type GroundedResponderOptions } from './grounded.ts';
import { createOpenAiCompatibleResponder, type OpenAiCompatibleResponderOptions } from './openai-compatible.ts';
import type { Responder } from './responder.ts';
import type { StreamingResponder } from './streaming-responder.ts';

export * from './responder.ts';
export type { ResponderFinish, StreamingResponder } from './streaming-responder.ts';
export { composeGroundedAnswer, createGroundedResponder, tokenize, type GroundedResponderOptions } from './grounded.ts';
export {
  chatMessages,
  createOpenAiCompatibleResponder,
  type OpenAiCompatibleResponderOptions,
} from './openai-compatible.ts';

/** Each responder's options, by kind: what `responderFor` passes on. */
export interface ResponderOptions {
  grounded?: GroundedResponderOptions;
  openAiCompatible?: OpenAiCompatibleResponderOptions;
}

/**
 * The responder of a droid's provider kind. Responders hold no per-request
 * state, so an engine may build one per kind at start-up and reuse it.
 *
 * @example
 * const responder = responderFor(droid.provider.kind, { grounded: { tokenDelayMs: env.TOKEN_DELAY_MS } });
 */
export function responderFor(kind: Responder['kind'], options: ResponderOptions = {}): StreamingResponder {
  switch (kind) {
    case 'GROUNDED':
      return createGroundedResponder(options.grounded);
    case 'OPENAI_COMPATIBLE':
      return createOpenAiCompatibleResponder(options.openAiCompatible);
  }
}
