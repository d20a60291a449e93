import type { ConversationDeps } from '@supergraph/conversation';

type Responder = NonNullable<NonNullable<ConversationDeps['responders']>['GROUNDED']>;

/** A prompt the timed responder understands: which gate the reply waits for. */
export function benchPrompt(tag: string, index: number): string {
  return `bench ${tag} ${index}`;
}

/**
 * A token as the responder generates it: `t<epoch ms, 3 decimals>#<seq> `.
 * The client subtracts the timestamp from its own clock on receipt; both
 * processes run on this machine, so there is no skew to correct.
 */
export function parseToken(delta: string): { generatedAt: number; sequence: number } | undefined {
  const match = /^t(\d+(?:\.\d+)?)#(\d+) $/.exec(delta);
  return match ? { generatedAt: Number(match[1]), sequence: Number(match[2]) } : undefined;
}

/** Wall-clock ms with sub-ms precision (monotonic since the process started). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface TimedResponder extends Responder {
  /** Lets every reply of `tag` start generating (those waiting and those still to come). */
  open(tag: string): void;
  /** Replies of `tag` waiting at the gate right now. */
  waiting(tag: string): number;
}

/**
 * The benchmark's stand-in for a model: every reply waits until its round's
 * gate opens (so N subscriptions can be connected idle first), then emits
 * `tokens` tokens, one every `intervalMs`, each carrying its generation
 * time. Streams start at a random offset within the first interval, so N
 * streams spread their tokens over time as real ones do instead of ticking
 * in lockstep.
 */
export function createTimedResponder(options: { tokens: number; intervalMs: number }): TimedResponder {
  const gates = new Map<string, { opened: Promise<void>; open: () => void; waiting: number }>();
  const gateOf = (tag: string) => {
    let gate = gates.get(tag);
    if (!gate) {
      let open = () => {};
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { opened, open, waiting: 0 };
      gates.set(tag, gate);
    }
    return gate;
  };
  return {
    kind: 'GROUNDED',
    open: (tag) => gateOf(tag).open(),
    waiting: (tag) => gates.get(tag)?.waiting ?? 0,
    async *respond(request) {
      const tag = /^bench (\S+) \d+$/.exec(request.prompt)?.[1];
      if (!tag) throw new Error(`not a benchmark prompt: ${request.prompt.slice(0, 40)}`);
      const gate = gateOf(tag);
      gate.waiting += 1;
      try {
        await untilOrAborted(gate.opened, request.signal);
      } finally {
        gate.waiting -= 1;
      }
      const start = nowMs() + Math.random() * options.intervalMs;
      for (let sequence = 1; sequence <= options.tokens; sequence++) {
        const due = start + (sequence - 1) * options.intervalMs;
        const wait = due - nowMs();
        if (wait > 0) await untilOrAborted(new Promise((resolve) => setTimeout(resolve, wait)), request.signal);
        yield `t${nowMs().toFixed(3)}#${sequence} `;
      }
    },
  };
}

function untilOrAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
