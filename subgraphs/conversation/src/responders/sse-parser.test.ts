import { describe, expect, it } from 'vitest';
import { SseParser, type ServerSentEvent } from './sse-parser.ts';

/** Every event of `input` fed in the given pieces, then the end. */
function parse(pieces: readonly (string | Uint8Array)[]): ServerSentEvent[] {
  const parser = new SseParser();
  return [...pieces.flatMap((piece) => parser.push(piece)), ...parser.end()];
}

const encoder = new TextEncoder();

describe('SseParser', () => {
  it('parses data events separated by blank lines', () => {
    expect(parse(['data: {"a":1}\n\ndata: [DONE]\n\n'])).toEqual([
      { event: undefined, data: '{"a":1}' },
      { event: undefined, data: '[DONE]' },
    ]);
  });

  it('joins multi-line data with \\n and keeps the event name', () => {
    expect(parse(['event: message\ndata: one\ndata:two\ndata:  three\n\n'])).toEqual([
      { event: 'message', data: 'one\ntwo\n three' },
    ]);
  });

  it('ignores comments, id, retry, unknown fields and blank lines without data', () => {
    expect(parse([': keep-alive\n\nid: 7\nretry: 100\nfoo: bar\ndata: x\n\n\n\n'])).toEqual([
      { event: undefined, data: 'x' },
    ]);
  });

  it('accepts \\r\\n and \\r line ends, also when \\r\\n is split between chunks', () => {
    expect(parse(['data: a\r\n\r\ndata: b\r\rdata: c\r', '', '\n\r', '\n'])).toEqual([
      { event: undefined, data: 'a' },
      { event: undefined, data: 'b' },
      { event: undefined, data: 'c' },
    ]);
  });

  it('gives the same events whatever the chunk boundaries, including inside a UTF-8 sequence', () => {
    const stream = 'data: {"content":"naïve café 🚀"}\r\n\r\n: ping\n\ndata: second\ndata: line\n\ndata: [DONE]\n\n';
    const bytes = encoder.encode(stream);
    const whole = parse([bytes]);
    expect(whole).toHaveLength(3);
    expect(whole[0]?.data).toBe('{"content":"naïve café 🚀"}');
    for (let cut = 1; cut < bytes.length; cut += 1) {
      expect(parse([bytes.slice(0, cut), bytes.slice(cut)])).toEqual(whole);
    }
    expect(parse([...bytes].map((byte) => Uint8Array.of(byte)))).toEqual(whole);
  });

  it('dispatches a complete last event without its blank line, and drops a line cut off mid-way', () => {
    expect(parse(['data: [DONE]\n'])).toEqual([{ event: undefined, data: '[DONE]' }]);
    expect(parse(['data: {"a":1}\n\ndata: {"cho'])).toEqual([{ event: undefined, data: '{"a":1}' }]);
  });

  it('treats a field without a colon as an empty value', () => {
    expect(parse(['data\ndata\n\n'])).toEqual([{ event: undefined, data: '\n' }]);
  });
});
