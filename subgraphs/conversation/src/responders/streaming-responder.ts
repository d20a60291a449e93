import type { Responder, ResponderRequest } from './responder.ts';

/** How a reply ended, for an engine that reads the generator's return value (`for await` ignores it). */
export interface ResponderFinish {
  /** `stop` when the reply is complete, `length` when the provider cut it at its token limit, null when unknown. */
  finishReason: string | null;
}

/**
 * What both built responders are: a `Responder` whose stream is a generator
 * returning how the reply ended, so an engine may record a `length` cut
 * without the `Responder` contract growing a field.
 */
export interface StreamingResponder extends Responder {
  respond(request: ResponderRequest): AsyncGenerator<string, ResponderFinish>;
}
