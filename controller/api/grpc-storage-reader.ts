/**
 * The StorageReader port over a storage's BlockStore gRPC API: GetDatastoreInfo for the site,
 * ListBackups for the summaries of its manifests. Read-only calls that a `peer-read` credential
 * may make (docs/ACCESS.md); the controller presents its `storageToken` when it has one. One
 * short-lived channel per import: the controller does not otherwise talk to storages.
 */
import { AppError, PreconditionError } from '../../shared/errors.js';
import { callUnary, deadlineIn } from '../../shared/rpc/grpc-calls.js';
import type { DatastoreInfo__Output } from '../../shared/rpc/generated/bulwark/v1/DatastoreInfo.js';
import type { ListBackupsRequest } from '../../shared/rpc/generated/bulwark/v1/ListBackupsRequest.js';
import type { ListBackupsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListBackupsResponse.js';
import { createBlockStoreClient } from '../../shared/rpc/proto-packages.js';
import type { StorageListing, StorageReader } from '../jobs/catalog-import.js';

const CALL_TIMEOUT_MS = 60_000;

export class GrpcStorageReader implements StorageReader {
  /** `token`: the bearer token sent with each call; none: anonymous. */
  constructor(private readonly token: string | undefined) {}

  async list(address: string): Promise<StorageListing> {
    const client = createBlockStoreClient(address, { token: this.token });
    const target = `storage ${address}`;
    try {
      const info = await callUnary<object, DatastoreInfo__Output>(target, (r, o, cb) => client.getDatastoreInfo(r, o, cb), {}, {
        deadline: deadlineIn(CALL_TIMEOUT_MS),
      });
      const { backups } = await callUnary<ListBackupsRequest, ListBackupsResponse__Output>(
        target,
        (r, o, cb) => client.listBackups(r, o, cb),
        { vm: '' },
        { deadline: deadlineIn(CALL_TIMEOUT_MS) },
      );
      return { site: info.site, backups };
    } catch (err) {
      throw storageError(err, address, this.token !== undefined);
    } finally {
      client.close();
    }
  }
}

/**
 * The storage's refusal as the controller's own condition: UNAVAILABLE or UNAUTHENTICATED passed
 * through as they are would read, at the CLI, as the controller being down or the CLI's own
 * credential being wrong.
 */
function storageError(err: unknown, address: string, hasToken: boolean): unknown {
  if (!(err instanceof AppError)) return err;
  const details = { storageAddress: address, storageCode: err.code };
  switch (err.code) {
    case 'UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
      return new PreconditionError(`cannot reach the storage at ${address}: ${err.message}`, details);
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED': {
      const hint = hasToken
        ? "list the controller's storageToken there as a peer-read client"
        : 'give the controller a storageToken (or storageTokenFile) that the storage lists as a peer-read client';
      return new PreconditionError(`the storage at ${address} refused the controller (${err.message}): ${hint}`, details);
    }
    default:
      return err;
  }
}
