import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateInternalKeyPair, generateSigningJwk, loadOrCreateDevKeys } from './keys.ts';

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dev-keys-'));
  dirs.push(dir);
  return path.join(dir, 'dev-keys.json');
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('loadOrCreateDevKeys', () => {
  it('creates every key once, provider-key secret included, and keeps them across loads', async () => {
    const file = tempFile();
    const created = await loadOrCreateDevKeys(file);
    expect(created.providerKeySecret).toMatch(/^1:[A-Za-z0-9+/]{43}=$/);
    expect(await loadOrCreateDevKeys(file)).toEqual(created);
  });

  it('adds the provider-key secret to a file written before it existed, keeping the other keys', async () => {
    const file = tempFile();
    const internal = generateInternalKeyPair();
    const old = {
      internalPrivateKeyPem: internal.privateKeyPem,
      internalPublicKeyPem: internal.publicKeyPem,
      authSigningKeys: [await generateSigningJwk()],
    };
    writeFileSync(file, JSON.stringify(old));
    const upgraded = await loadOrCreateDevKeys(file);
    expect(upgraded).toMatchObject(old);
    expect(upgraded.providerKeySecret).toMatch(/^1:/);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(upgraded);
    expect(await loadOrCreateDevKeys(file)).toEqual(upgraded);
  });
});
