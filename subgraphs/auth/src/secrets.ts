import { createHash, randomBytes } from 'node:crypto';

/** sha256 as hex: how session tokens, API keys and refresh-token ids are stored. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** 32 random bytes, base64url (43 characters). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export const API_KEY_PREFIX = 'sg_';

/** A new API key (`sg_` + 32 random bytes base64url) and its display prefix. */
export function generateApiKey(): { key: string; prefix: string } {
  const secret = randomToken();
  return { key: `${API_KEY_PREFIX}${secret}`, prefix: secret.slice(0, 8) };
}

/** Cheap shape check before hashing and looking a presented key up. */
export function looksLikeApiKey(value: string): boolean {
  return /^sg_[A-Za-z0-9_-]{43}$/.test(value);
}

export function looksLikeSessionToken(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}
