import { describe, expect, it } from 'vitest';
import { responderFor } from './index.ts';

describe('responderFor', () => {
  it('gives the responder of each provider kind', () => {
    expect(responderFor('GROUNDED').kind).toBe('GROUNDED');
    expect(responderFor('OPENAI_COMPATIBLE', { openAiCompatible: { timeoutMs: 1_000 } }).kind).toBe(
      'OPENAI_COMPATIBLE',
    );
  });
});
