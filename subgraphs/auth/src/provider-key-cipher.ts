import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Fewer distinct byte values than this in 32 bytes is not random (zeros, a repeated pattern, a typed word). */
const MIN_DISTINCT_BYTES = 12;

/**
 * One entry of `AUTH_PROVIDER_KEY_SECRETS`. Held as a `KeyObject` so that a
 * stray `console.log(config)` prints `SecretKeyObject { symmetricKeySize: 32 }`,
 * never the bytes.
 */
export interface ProviderKeySecret {
  /** Stored in each row's `key_version`: which secret decrypts it. */
  version: number;
  key: KeyObject;
}

/** A provider key as stored: AES-256-GCM output plus the secret's version. */
export interface SealedProviderKey {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  keyVersion: number;
}

/** Whose key it is: bound into the ciphertext as AAD, so a row copied to another user or provider fails to decrypt. */
export interface ProviderKeyOwner {
  userId: string;
  provider: string;
}

/**
 * Parses `AUTH_PROVIDER_KEY_SECRETS`: comma-separated `<version>:<secret>`,
 * newest first (it encrypts; the others only decrypt rows not yet rewritten),
 * each secret 32 bytes as 64 hex digits or base64/base64url. A single entry
 * may leave out `<version>:` (it is version 1).
 *
 * @example
 * parseProviderKeySecrets('2:q83v…=,1:3q2+7w…=') // [{ version: 2, … }, { version: 1, … }]
 */
export function parseProviderKeySecrets(text: string): { secrets: ProviderKeySecret[]; problems: string[] } {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const problems: string[] = [];
  const secrets: ProviderKeySecret[] = [];
  if (entries.length === 0) problems.push('at least one secret is required');
  entries.forEach((entry, index) => {
    const separator = entry.indexOf(':');
    if (separator < 0 && entries.length > 1) {
      problems.push(`entry ${index + 1} needs a version (<version>:<secret>) when there are several`);
      return;
    }
    const versionText = separator < 0 ? '1' : entry.slice(0, separator);
    const version = /^[1-9][0-9]{0,8}$/.test(versionText) ? Number(versionText) : NaN;
    if (!Number.isInteger(version)) {
      problems.push(`entry ${index + 1}: the version must be a positive integer`);
      return;
    }
    if (secrets.some((secret) => secret.version === version)) {
      problems.push(`version ${version} is used twice`);
      return;
    }
    const bytes = decodeSecret(separator < 0 ? entry : entry.slice(separator + 1));
    if (!bytes) {
      problems.push(`version ${version}: must be ${KEY_BYTES} bytes as 64 hex digits or base64`);
      return;
    }
    if (new Set(bytes).size < MIN_DISTINCT_BYTES) {
      problems.push(`version ${version}: too weak (not random bytes); generate one with \`npm run secrets\``);
      return;
    }
    secrets.push({ version, key: createSecretKey(bytes) });
  });
  return { secrets, problems };
}

function decodeSecret(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === KEY_BYTES ? bytes : undefined;
}

/** A fresh secret as `AUTH_PROVIDER_KEY_SECRETS` takes it (version 1, base64). */
export function generateProviderKeySecret(version = 1): string {
  return `${version}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/** Every reason `secrets` cannot serve (empty when fine): start-up refuses them. */
export function providerKeySecretProblems(secrets: readonly ProviderKeySecret[]): string[] {
  const problems: string[] = [];
  if (secrets.length === 0) problems.push('at least one secret is required');
  for (const secret of secrets) {
    if (secret.key.type !== 'secret' || secret.key.symmetricKeySize !== KEY_BYTES)
      problems.push(`version ${secret.version} is not a ${KEY_BYTES}-byte secret key`);
  }
  if (new Set(secrets.map((secret) => secret.version)).size !== secrets.length)
    problems.push('a version is used twice');
  return problems;
}

function associatedData(owner: ProviderKeyOwner): Buffer {
  // A NUL cannot occur in a uuid or a provider name, so the pair reads back one way only.
  return Buffer.from(`provider-key\0${owner.userId}\0${owner.provider}`, 'utf8');
}

/** Encrypts `plaintext` under the first (newest) secret with a fresh 12-byte IV. */
export function sealProviderKey(
  secrets: readonly ProviderKeySecret[],
  owner: ProviderKeyOwner,
  plaintext: string,
): SealedProviderKey {
  const secret = secrets[0];
  if (!secret) throw new Error('no provider key secret configured');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, secret.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(owner));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { ciphertext, iv, authTag: cipher.getAuthTag(), keyVersion: secret.version };
}

/**
 * Decrypts a stored key. Throws (without any of the key's bytes in the
 * message) when its secret is gone from the ring, or the row was tampered
 * with or moved to another user or provider.
 */
export function openProviderKey(
  secrets: readonly ProviderKeySecret[],
  owner: ProviderKeyOwner,
  sealed: SealedProviderKey,
): string {
  const secret = secrets.find((candidate) => candidate.version === sealed.keyVersion);
  if (!secret) throw new Error(`provider key secret version ${sealed.keyVersion} is not configured`);
  const decipher = createDecipheriv(ALGORITHM, secret.key, sealed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(owner));
  decipher.setAuthTag(sealed.authTag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`provider key of ${owner.provider} does not authenticate (tampered, moved or wrong secret)`);
  }
}
