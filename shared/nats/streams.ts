import { RetentionPolicy, StorageType, nanos, type JetStreamManager, type StreamConfig } from 'nats';
import { EVENTS_STREAM, JOBS_STREAM, subjects } from '../messages/subjects.js';

const DAY_MS = 86_400_000;

const streamConfigs: Partial<StreamConfig>[] = [
  {
    name: JOBS_STREAM,
    subjects: [subjects.allJobs],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: 1,
    duplicate_window: nanos(120_000),
    max_age: nanos(7 * DAY_MS),
  },
  {
    name: EVENTS_STREAM,
    subjects: [subjects.allEvents],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: 1,
    duplicate_window: nanos(120_000),
    max_age: nanos(7 * DAY_MS),
    max_bytes: 1 << 30,
  },
];

/**
 * Creates Bulwark's two streams, or leaves them be when they exist with this configuration.
 * Every process calls it at start and after a server lost its store, so start order is free.
 */
export async function ensureStreams(jsm: JetStreamManager): Promise<void> {
  for (const config of streamConfigs) {
    try {
      await jsm.streams.add(config);
    } catch (err) {
      // 10058: the stream exists with another configuration (an older version): update it.
      if ((err as { api_error?: { err_code?: number } }).api_error?.err_code === 10058 && config.name) {
        await jsm.streams.update(config.name, config);
      } else {
        throw err;
      }
    }
  }
}
