/**
 * Measures how fast a storage process ingests PutChunks: a separate server process (a real
 * datastore on disk behind gRPC), and this process as the client streaming distinct 1 MiB blobs.
 *
 *   npx tsx storage/testing/put-chunks-bench.ts [--mb 1024] [--encrypted] [--compressible]
 *
 * Prints one JSON line: MB/s of blob bytes from the first message to the answer (every chunk
 * durable), and the server's CPU seconds per GiB.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { systemClock } from '../../shared/clock.js';
import { keysFromMaterial } from '../../shared/crypto/datastore-keys.js';
import { ChunkCodec } from '../../shared/crypto/chunk-codec.js';
import { callUnary } from '../../shared/rpc/grpc-calls.js';
import type { BeginBackupRequest } from '../../shared/rpc/generated/bulwark/v1/BeginBackupRequest.js';
import type { BeginBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/BeginBackupResponse.js';
import { createBlockStoreClient } from '../../shared/rpc/proto-packages.js';
import { putChunks, startTestStorage } from './test-storage.js';

const CHUNK = 1024 * 1024;

async function serve(dir: string, keyFingerprint: string | undefined): Promise<void> {
  const storage = await startTestStorage(dir, 'bench', systemClock, CHUNK, keyFingerprint === undefined ? {} : { keyFingerprint });
  process.stdout.write(`${JSON.stringify({ address: storage.address })}\n`);
  process.stdin.resume();
  process.stdin.on('data', () => {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
  });
  process.stdin.on('end', () => {
    void storage.stop().then(() => process.exit(0));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      fingerprint: { type: 'string' },
      mb: { type: 'string', default: '1024' },
      encrypted: { type: 'boolean', default: false },
      compressible: { type: 'boolean', default: false },
    },
  });
  if (values.serve !== undefined) return serve(values.serve, values.fingerprint);

  const count = Number(values.mb);
  const keys = values.encrypted ? keysFromMaterial(randomBytes(96)) : null;
  const codec = new ChunkCodec(keys);
  const chunks: { digest: Buffer; blob: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    const plain = randomBytes(CHUNK);
    if (values.compressible) plain.fill(0x20, 0, CHUNK / 2);
    const digest = codec.digest(plain);
    chunks.push({ digest, blob: codec.encode(plain, digest) });
  }
  const blobBytes = chunks.reduce((n, c) => n + c.blob.length, 0);

  const dir = await mkdtemp(join(tmpdir(), 'bulwark-putbench-'));
  const args = [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []), '--import', 'tsx', new URL(import.meta.url).pathname, '--serve', join(dir, 'ds')];
  if (keys) args.push('--fingerprint', keys.fingerprint);
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>;
  const { address } = (await nextLine()) as { address: string };
  const client = createBlockStoreClient(address);
  try {
    const begin = await callUnary<BeginBackupRequest, BeginBackupResponse__Output>('BeginBackup', client.beginBackup.bind(client), {
      vm: 'bench',
      disks: [{ name: 'root', sizeBytes: count * CHUNK }],
      jobId: 'bench',
      attempt: 1,
      mode: 'full',
    });
    child.stdin.write('\n');
    const cpuBefore = (await nextLine()).cpuSeconds as number;
    const started = process.hrtime.bigint();
    const answer = await putChunks(client, begin.sessionId, chunks);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    child.stdin.write('\n');
    const cpuAfter = (await nextLine()).cpuSeconds as number;
    process.stdout.write(
      `${JSON.stringify({
        encrypted: values.encrypted,
        compressible: values.compressible,
        chunks: count,
        blobBytes,
        seconds: Number(seconds.toFixed(3)),
        mbPerSec: Math.round(blobBytes / seconds / 1e6),
        serverCpuSecondsPerGiB: Number((((cpuAfter - cpuBefore) * 2 ** 30) / blobBytes).toFixed(2)),
        written: answer.chunksWritten,
      })}\n`,
    );
  } finally {
    client.close();
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
