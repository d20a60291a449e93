/** One server-sent event: its `data:` lines joined with `\n`, and its `event:` name when it has one. */
export interface ServerSentEvent {
  event: string | undefined;
  data: string;
}

/**
 * An incremental parser of the `text/event-stream` format (WHATWG HTML,
 * "Server-sent events", the parts a chat-completions stream uses): bytes go in
 * as they arrive, split anywhere (inside a line, a `\r\n` pair or a UTF-8
 * sequence), complete events come out. Lines end in `\n`, `\r` or `\r\n`; a
 * blank line dispatches an event; `:` lines are comments (keep-alives); one
 * space after a field's colon is dropped; `id` and `retry` are ignored (a
 * reply is never resumed).
 *
 * @example
 * const parser = new SseParser();
 * for await (const chunk of response.body) for (const event of parser.push(chunk)) handle(event.data);
 * for (const event of parser.end()) handle(event.data);
 */
export class SseParser {
  #decoder = new TextDecoder('utf-8');
  #buffer = '';
  /** A `\r` ended the last chunk: a `\n` opening the next one belongs to it. */
  #pendingCr = false;
  #data: string[] = [];
  #event: string | undefined;

  /** Feeds bytes (or already decoded text); returns the events they completed. */
  push(chunk: Uint8Array | string): ServerSentEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (text === '') return [];
    if (this.#pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;
    const events: ServerSentEvent[] = [];
    let start = 0;
    for (;;) {
      const match = /\r\n|\r|\n/g;
      match.lastIndex = start;
      const found = match.exec(this.#buffer);
      if (found === null) break;
      // A lone `\r` at the very end may be the first half of `\r\n`: take the line, remember to skip a `\n`.
      if (found[0] === '\r' && found.index === this.#buffer.length - 1) this.#pendingCr = true;
      const event = this.#line(this.#buffer.slice(start, found.index));
      if (event !== undefined) events.push(event);
      start = found.index + found[0].length;
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  /**
   * The stream ended. An event whose lines all arrived but whose closing blank
   * line did not is still dispatched (lenient: some servers end on
   * `data: [DONE]\n`); a line cut off mid-way is dropped, as the format says.
   */
  end(): ServerSentEvent[] {
    this.#buffer += this.#decoder.decode();
    this.#buffer = '';
    const event = this.#dispatch();
    return event === undefined ? [] : [event];
  }

  #line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    return undefined;
  }

  #dispatch(): ServerSentEvent | undefined {
    const event = this.#data.length === 0 ? undefined : { event: this.#event, data: this.#data.join('\n') };
    this.#data = [];
    this.#event = undefined;
    return event;
  }
}
