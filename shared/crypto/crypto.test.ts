import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptDataError } from '../errors.js';
import { BlobKeyError, checkBlob } from '../format/blob.js';
import { chunkDigest } from '../format/chunk-digest.js';
import { ChunkCodec } from './chunk-codec.js';
import { contentHmac, generateKeyMaterial, keyMaterialOf, keysFromMaterial } from './datastore-keys.js';
import { KeyFile, openKeyFile, sealKeyFile, WrongPassphraseError } from './key-file.js';
import { keyFileFromPaper, keyFileToPaper } from './paper-key.js';

const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(30_000));

describe('chunk codec', () => {
  const keys = keysFromMaterial(generateKeyMaterial());
  const codec = new ChunkCodec(keys);
  const plain = new ChunkCodec(null);

  it('encrypts, compresses and round-trips; digests are keyed', () => {
    const digest = codec.digest(text);
    assert.notDeepEqual(digest, chunkDigest(text), 'a keyed digest differs from SHA-256');
    const blob = codec.encode(text, digest);
    const header = checkBlob(blob);
    assert.equal(header.encrypted, true);
    assert.equal(header.compressed, true);
    assert.ok(!blob.includes(Buffer.from('quick brown fox')), 'no plaintext in the blob');
    assert.deepEqual(codec.decode(blob, digest), text);
    assert.deepEqual(ChunkCodec.fromMaterial(keyMaterialOf(keys)).decode(blob, digest), text);
  });

  it('refuses a wrong key, a blob under another digest, and a flipped bit', () => {
    const digest = codec.digest(text);
    const blob = codec.encode(text, digest);
    const other = new ChunkCodec(keysFromMaterial(generateKeyMaterial()));
    assert.throws(() => other.decode(blob, digest), BlobKeyError);
    assert.throws(() => codec.decode(blob, codec.digest(Buffer.from('x'))), BlobKeyError);
    const bad = Buffer.from(blob);
    bad[100] = (bad[100] ?? 0) ^ 1;
    assert.throws(() => codec.decode(bad, digest), /checksum mismatch/);
    assert.throws(() => plain.decode(blob, digest), /no key was given/);
    const plainBlob = plain.encode(text, plain.digest(text));
    assert.throws(() => codec.decode(plainBlob, plain.digest(text)), /not encrypted but the datastore is/);
  });

  it('content HMAC changes with any disk field', () => {
    const content = { vm: 'vm', chunkSizeBytes: 1024, disks: [{ name: 'd', sizeBytes: 10, indexSha256: 'a'.repeat(64) }] };
    const mac = contentHmac(keys, content);
    assert.match(mac, /^[0-9a-f]{64}$/);
    assert.notEqual(contentHmac(keys, { ...content, disks: [{ name: 'd', sizeBytes: 10, indexSha256: 'b'.repeat(64) }] }), mac);
    assert.notEqual(contentHmac(keysFromMaterial(generateKeyMaterial()), content), mac);
  });
});

describe('key file', () => {
  const material = generateKeyMaterial();
  const file = sealKeyFile(material, 'correct horse battery', '2026-11-22T00:00:00.000Z', 14);

  it('opens with the passphrase and keeps the fingerprint', () => {
    assert.deepEqual(KeyFile.parse(JSON.parse(JSON.stringify(file))), file);
    const keys = openKeyFile(file, 'correct horse battery');
    assert.equal(keys.fingerprint, keysFromMaterial(material).fingerprint);
    assert.equal(file.fingerprint, keys.fingerprint);
    assert.ok(!JSON.stringify(file).includes(material.toString('base64')));
  });

  it('refuses a wrong passphrase and an edited file', () => {
    assert.throws(() => openKeyFile(file, 'wrong horse battery'), WrongPassphraseError);
    assert.throws(() => openKeyFile({ ...file, createdAt: '2027-01-01T00:00:00.000Z' }, 'correct horse battery'), WrongPassphraseError);
    const sealed = Buffer.from(file.sealed, 'base64');
    sealed[3] = (sealed[3] ?? 0) ^ 1;
    assert.throws(() => openKeyFile({ ...file, sealed: sealed.toString('base64') }, 'correct horse battery'), WrongPassphraseError);
    assert.throws(() => openKeyFile({ ...file, sealed: 'AAAA' }, 'correct horse battery'), CorruptDataError);
  });
});

describe('paper key', () => {
  const file = sealKeyFile(generateKeyMaterial(), 'paper passphrase', '2026-11-22T00:00:00.000Z', 14);

  it('round-trips through paper and still opens', () => {
    const paper = keyFileToPaper(file);
    assert.match(paper, new RegExp(`^bulwark key ${file.fingerprint}\\n01: `));
    const back = keyFileFromPaper(paper);
    assert.deepEqual(back, file);
    assert.equal(openKeyFile(back, 'paper passphrase').fingerprint, file.fingerprint);
  });

  it('names a mistyped line and a missing one', () => {
    const lines = keyFileToPaper(file).split('\n');
    const typo = [...lines];
    typo[3] = typo[3]!.replace(/: (.)/, (_m, c: string) => `: ${c === 'a' ? 'b' : 'a'}`);
    assert.throws(() => keyFileFromPaper(typo.join('\n')), /line 3: checksum does not match/);
    const missing = lines.filter((_l, i) => i !== 2);
    assert.throws(() => keyFileFromPaper(missing.join('\n')), /out of order/);
  });
});
