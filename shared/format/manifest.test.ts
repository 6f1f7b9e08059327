import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptDataError } from '../errors.js';
import { newId } from '../ids.js';
import { canonicalJson } from './canonical-json.js';
import { decodeManifest, encodeManifest, type ManifestBody } from './manifest.js';

function sample(): ManifestBody {
  return {
    format: 'bulwark-manifest',
    version: 1,
    backupId: newId(),
    vm: 'web-1',
    datastoreId: 'ds-1',
    createdAt: '2026-11-22T10:00:00.000Z',
    jobId: newId(),
    attempt: 1,
    mode: 'full',
    parentBackupId: null,
    changeTracking: 'hash',
    changeTrackingNote: null,
    chunkSizeBytes: 1048576,
    disks: [{ name: 'disk0', sizeBytes: 10, chunkCount: 1, zeroChunks: 0, indexSha256: 'a'.repeat(64) }],
    stats: { bytesRead: 10 },
  };
}

describe('manifest format', () => {
  it('round-trips and is canonical', () => {
    const body = sample();
    const file = encodeManifest(body);
    const decoded = decodeManifest(file);
    assert.equal(decoded.backupId, body.backupId);
    assert.deepEqual(encodeManifest({ ...body, stats: { bytesRead: 10 } }), file);
    assert.equal(file.toString(), canonicalJson(JSON.parse(file.toString())));
  });

  it('detects edits, truncation and garbage', () => {
    const file = encodeManifest(sample());
    const edited = Buffer.from(file.toString().replace('"web-1"', '"web-2"'));
    assert.throws(() => decodeManifest(edited), /checksum mismatch/);
    assert.throws(() => decodeManifest(file.subarray(0, file.length - 3)), CorruptDataError);
    assert.throws(() => decodeManifest(Buffer.from('[]')), /not a JSON object/);
    const noSum = JSON.parse(file.toString()) as Record<string, unknown>;
    delete noSum.checksum;
    assert.throws(() => decodeManifest(Buffer.from(JSON.stringify(noSum))), /checksum/);
  });

  it('refuses invalid fields by name', () => {
    assert.throws(() => encodeManifest({ ...sample(), vm: '../etc' }));
    const json = JSON.parse(encodeManifest(sample()).toString()) as Record<string, unknown>;
    json.attempt = -1;
    assert.throws(() => decodeManifest(Buffer.from(JSON.stringify(json))), /invalid field attempt/);
  });
});
