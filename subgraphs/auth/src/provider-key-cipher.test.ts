import { describe, expect, it } from 'vitest';
import {
  openProviderKey,
  parseProviderKeySecrets,
  generateProviderKeySecret,
  sealProviderKey,
  type ProviderKeySecret,
} from './provider-key-cipher.ts';

const PLAINTEXT = 'sk-test-4f9c2a7e1b3d5f60';
const owner = { userId: '6f1d1d8e-1111-4a4a-8b8b-000000000001', provider: 'openai' };

function ring(...entries: string[]): ProviderKeySecret[] {
  const { secrets, problems } = parseProviderKeySecrets(entries.join(','));
  expect(problems).toEqual([]);
  return secrets;
}

describe('provider key cipher (AES-256-GCM)', () => {
  it('round-trips with a fresh 12-byte IV and a 16-byte tag per seal, never holding the plain text', () => {
    const secrets = ring(generateProviderKeySecret());
    const first = sealProviderKey(secrets, owner, PLAINTEXT);
    const second = sealProviderKey(secrets, owner, PLAINTEXT);
    expect(first.iv).toHaveLength(12);
    expect(first.authTag).toHaveLength(16);
    expect(first.iv.equals(second.iv)).toBe(false);
    expect(first.ciphertext.equals(second.ciphertext)).toBe(false);
    expect(first.ciphertext.toString('utf8')).not.toContain(PLAINTEXT);
    expect(openProviderKey(secrets, owner, first)).toBe(PLAINTEXT);
  });

  it('refuses a ciphertext moved to another user or provider (the owner is the AAD)', () => {
    const secrets = ring(generateProviderKeySecret());
    const sealed = sealProviderKey(secrets, owner, PLAINTEXT);
    const otherUser = { ...owner, userId: '6f1d1d8e-1111-4a4a-8b8b-000000000002' };
    expect(() => openProviderKey(secrets, otherUser, sealed)).toThrow(/does not authenticate/);
    expect(() => openProviderKey(secrets, { ...owner, provider: 'anthropic' }, sealed)).toThrow(
      /does not authenticate/,
    );
  });

  it('refuses tampered ciphertext, IV or tag, and says nothing of the key', () => {
    const secrets = ring(generateProviderKeySecret());
    const sealed = sealProviderKey(secrets, owner, PLAINTEXT);
    const flip = (buffer: Buffer) => {
      const copy = Buffer.from(buffer);
      copy[0] = (copy[0] ?? 0) ^ 1;
      return copy;
    };
    for (const tampered of [
      { ...sealed, ciphertext: flip(sealed.ciphertext) },
      { ...sealed, iv: flip(sealed.iv) },
      { ...sealed, authTag: flip(sealed.authTag) },
    ]) {
      let message = '';
      try {
        openProviderKey(secrets, owner, tampered);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/does not authenticate/);
      expect(message).not.toContain(PLAINTEXT);
    }
  });

  it('rotates: the first secret seals, older versions still open their rows, a dropped version is named', () => {
    const old = generateProviderKeySecret(1);
    const current = generateProviderKeySecret(2);
    const sealedOld = sealProviderKey(ring(old), owner, PLAINTEXT);
    expect(sealedOld.keyVersion).toBe(1);
    const rotated = ring(current, old);
    expect(openProviderKey(rotated, owner, sealedOld)).toBe(PLAINTEXT);
    expect(sealProviderKey(rotated, owner, PLAINTEXT).keyVersion).toBe(2);
    expect(() => openProviderKey(ring(current), owner, sealedOld)).toThrow(/version 1 is not configured/);
  });

  it('a secret of the same version but other bytes cannot open the row', () => {
    const sealed = sealProviderKey(ring(generateProviderKeySecret()), owner, PLAINTEXT);
    expect(() => openProviderKey(ring(generateProviderKeySecret()), owner, sealed)).toThrow(/does not authenticate/);
  });

  it('holds secrets as KeyObjects, which print no bytes', () => {
    const text = generateProviderKeySecret();
    const [secret] = ring(text);
    expect(JSON.stringify(secret)).not.toContain(text.slice(2));
    expect(String(secret?.key.export().length)).toBe('32');
  });
});
