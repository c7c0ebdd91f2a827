import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.js';

const VERSION = 'v1';

/** Encrypts secrets at rest with AES-256-GCM; a fresh 96-bit IV per value, the tag authenticates it. */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(text: string): SecretBox {
    const trimmed = text.trim();
    const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
    if (key.length !== 32) {
      throw new ConfigError('HOOKYARD_SECRET_KEY', 'must be 32 bytes as 64 hex characters or base64');
    }
    return new SecretBox(key);
  }

  /**
   * Uses HOOKYARD_SECRET_KEY when given; otherwise the key file in the data directory, created on first start
   * (readable by the owner only) so that a fresh install needs no configuration.
   */
  static load(configured: string | undefined, dataDir: string): SecretBox {
    if (configured !== undefined) return SecretBox.fromKey(configured);
    const path = join(dataDir, 'secret.key');
    if (!existsSync(path)) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    }
    return SecretBox.fromKey(readFileSync(path, 'utf8'));
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(sealed: string): string {
    if (!sealed.startsWith(`${VERSION}:`)) throw new Error('unknown secret encoding');
    const raw = Buffer.from(sealed.slice(VERSION.length + 1), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}
