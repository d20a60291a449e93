/** A passage retrieved for a prompt: what grounds a reply and what it cites. */
export interface Passage {
  /** Knowledge entry id, or the storage record id. */
  id: string;
  source: 'knowledge' | 'unit';
  /** For `unit` passages: the unit id (`physics`, ...). */
  unitId?: string | undefined;
  title: string;
  text: string;
  /** Higher is better; comparable within one source only. */
  rank: number;
}
export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}
export interface ResponderRequest {
  droid: { id: string; name: string; persona: string; baseUrl: string | null; model: string | null };
  /** The user's new message. */
  prompt: string;
  /** Earlier turns of the conversation, oldest first, without `prompt`. */
  history: readonly ChatTurn[];
  /** Retrieved context, best first (already cut to what fits). */
  passages: readonly Passage[];
  /** The user's provider key, else the server default, else null. */
  apiKey: string | null;
  signal: AbortSignal;
}
/** A reply that cannot be produced; `reason` is safe to show the user and store as `failureReason`. */
export class ResponderError extends Error {
  // A declared field, not a parameter property: erasableSyntaxOnly (Node strips types, it does not transform them).
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.reason = reason;
    this.name = 'ResponderError';
  }
}
export interface Responder {
  readonly kind: 'GROUNDED' | 'OPENAI_COMPATIBLE';
  /** The reply's text, a token (or a few characters) per yielded string. Throws `ResponderError`. */
  respond(request: ResponderRequest): AsyncIterable<string>;
}
