import type { JobMessage } from '../../shared/messages/jobs.js';

/** Delivers a job to one worker's queue. */
export interface JobPublisher {
  /**
   * Resolves once the queue has stored the job. Publishing the same (jobId, attempt) twice stores
   * it once, so a caller that crashed between publish and its own record may publish again.
   */
  publish(site: string, worker: string, job: JobMessage): Promise<void>;
}
