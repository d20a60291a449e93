import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/** An Ed25519 key pair as PEM (PKCS8 private, SPKI public): the gateway's internal-token key. */
export function generateInternalKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** A private Ed25519 JWK with a fresh `kid`, for signing access tokens (`AUTH_SIGNING_KEYS`). */
export async function generateSigningJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'EdDSA', use: 'sig' };
}

export interface DevKeys {
  internalPrivateKeyPem: string;
  internalPublicKeyPem: string;
  authSigningKeys: JWK[];
  /**
   * Auth's AES-256-GCM secret for users' provider keys, as `AUTH_PROVIDER_KEY_SECRETS`
   * takes it (`1:<base64>`). Optional in the type: files written before it existed lack it,
   * and {@link loadOrCreateDevKeys} adds it to them.
   */
  providerKeySecret?: string;
}

function generateProviderKeySecret(): string {
  return `1:${randomBytes(32).toString('base64')}`;
}

/** Writes through a temporary file, so a process reading the keys at the same moment never sees half a file. */
function writeDevKeys(file: string, keys: DevKeys): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(keys, null, 2), { mode: 0o600 });
  renameSync(temporary, file);
}

/**
 * Development-only keys, generated once and kept in `file` so restarts keep
 * issued tokens valid. Production never calls this: it requires keys in env.
 */
export async function loadOrCreateDevKeys(file: string): Promise<DevKeys> {
  if (existsSync(file)) {
    const existing = JSON.parse(readFileSync(file, 'utf8')) as DevKeys;
    if (existing.providerKeySecret) return existing;
    writeDevKeys(file, { ...existing, providerKeySecret: generateProviderKeySecret() });
    // What the file holds now: when two processes upgrade it at once, both go on with the one that stayed.
    return JSON.parse(readFileSync(file, 'utf8')) as DevKeys;
  }
  const internal = generateInternalKeyPair();
  const keys: DevKeys = {
    internalPrivateKeyPem: internal.privateKeyPem,
    internalPublicKeyPem: internal.publicKeyPem,
    authSigningKeys: [await generateSigningJwk()],
    providerKeySecret: generateProviderKeySecret(),
  };
  writeDevKeys(file, keys);
  return keys;
}
