/**
 * A small client of the controller's gRPC API for the CLI: waits briefly for the channel so an
 * absent controller fails fast (exit 3), maps UNAVAILABLE to ControllerUnreachableError, and
 * hides the generated client's callback style.
 */
import type * as grpc from '@grpc/grpc-js';
import { AppError } from '../../shared/errors.js';
import { callUnary, deadlineIn, readServerStream } from '../../shared/rpc/grpc-calls.js';
import { createControllerClient, type ControllerClient } from '../../shared/rpc/proto-packages.js';
import type { Job__Output } from '../../shared/rpc/generated/bulwark/v1/Job.js';
import type { ListRpoRequest } from '../../shared/rpc/generated/bulwark/v1/ListRpoRequest.js';
import type { ListRpoResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListRpoResponse.js';
import type { ListCatalogBackupsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListCatalogBackupsResponse.js';
import type { ListJobsRequest } from '../../shared/rpc/generated/bulwark/v1/ListJobsRequest.js';
import type { ListJobsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListJobsResponse.js';
import type { ListVmsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListVmsResponse.js';
import type { ListWorkersResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListWorkersResponse.js';
import type { StartBackupRequest } from '../../shared/rpc/generated/bulwark/v1/StartBackupRequest.js';
import type { StartRestoreRequest } from '../../shared/rpc/generated/bulwark/v1/StartRestoreRequest.js';
import type { StartSyncRequest } from '../../shared/rpc/generated/bulwark/v1/StartSyncRequest.js';
import type { StartVerifyRequest } from '../../shared/rpc/generated/bulwark/v1/StartVerifyRequest.js';
import type { StartPruneRequest } from '../../shared/rpc/generated/bulwark/v1/StartPruneRequest.js';
import type { StartGcRequest } from '../../shared/rpc/generated/bulwark/v1/StartGcRequest.js';
import type { StartSnapshotRequest } from '../../shared/rpc/generated/bulwark/v1/StartSnapshotRequest.js';
import type { LockBackupRequest } from '../../shared/rpc/generated/bulwark/v1/LockBackupRequest.js';
import type { LockBackupResponse__Output } from '../../shared/rpc/generated/bulwark/v1/LockBackupResponse.js';
import type { ListCatalogBackupsRequest } from '../../shared/rpc/generated/bulwark/v1/ListCatalogBackupsRequest.js';
import type { ListRepairsRequest } from '../../shared/rpc/generated/bulwark/v1/ListRepairsRequest.js';
import type { ListRepairsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListRepairsResponse.js';
import type { ListAlertsRequest } from '../../shared/rpc/generated/bulwark/v1/ListAlertsRequest.js';
import type { ListAlertsResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListAlertsResponse.js';
import type { GetReplicationStatusResponse__Output } from '../../shared/rpc/generated/bulwark/v1/GetReplicationStatusResponse.js';
import type { GetStatusRequest } from '../../shared/rpc/generated/bulwark/v1/GetStatusRequest.js';
import type { GetStatusResponse__Output } from '../../shared/rpc/generated/bulwark/v1/GetStatusResponse.js';
import type { ImportCatalogRequest } from '../../shared/rpc/generated/bulwark/v1/ImportCatalogRequest.js';
import type { ImportCatalogResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ImportCatalogResponse.js';
import type { ApiToken__Output } from '../../shared/rpc/generated/bulwark/v1/ApiToken.js';
import type { CreateApiTokenRequest } from '../../shared/rpc/generated/bulwark/v1/CreateApiTokenRequest.js';
import type { CreateApiTokenResponse__Output } from '../../shared/rpc/generated/bulwark/v1/CreateApiTokenResponse.js';
import type { ListApiTokensResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListApiTokensResponse.js';
import type { ListAuditEntriesRequest } from '../../shared/rpc/generated/bulwark/v1/ListAuditEntriesRequest.js';
import type { ListAuditEntriesResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListAuditEntriesResponse.js';
import type { AssignPolicyRequest } from '../../shared/rpc/generated/bulwark/v1/AssignPolicyRequest.js';
import type { CreatePolicyRequest } from '../../shared/rpc/generated/bulwark/v1/CreatePolicyRequest.js';
import type { DeletePolicyResponse__Output } from '../../shared/rpc/generated/bulwark/v1/DeletePolicyResponse.js';
import type { ListPoliciesResponse__Output } from '../../shared/rpc/generated/bulwark/v1/ListPoliciesResponse.js';
import type { PolicyEntry__Output } from '../../shared/rpc/generated/bulwark/v1/PolicyEntry.js';
import type { UpdatePolicyRequest } from '../../shared/rpc/generated/bulwark/v1/UpdatePolicyRequest.js';
import { ControllerUnreachableError } from './cli-errors.js';
import type { ControllerLocation } from './client-config.js';

const CONNECT_TIMEOUT_MS = 3000;
const CALL_TIMEOUT_MS = 60_000;

type Unary<Req, Res> = (req: Req, options: grpc.CallOptions, cb: grpc.requestCallback<Res>) => unknown;

export class ControllerApi {
  private readonly client: ControllerClient;

  constructor(readonly location: ControllerLocation) {
    this.client = createControllerClient(location.address, { token: location.token });
  }

  /** Resolves once the controller's channel is ready; ControllerUnreachableError after a short deadline. */
  async connect(timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.client.waitForReady(deadlineIn(timeoutMs), (err) =>
        err ? reject(new ControllerUnreachableError(this.location.address, this.location.source, err)) : resolve(),
      );
    });
  }

  close(): void {
    this.client.close();
  }

  listVms(): Promise<ListVmsResponse__Output> {
    return this.unary<object, ListVmsResponse__Output>((r, o, cb) => this.client.listVms(r, o, cb), {});
  }

  listWorkers(): Promise<ListWorkersResponse__Output> {
    return this.unary<object, ListWorkersResponse__Output>((r, o, cb) => this.client.listWorkers(r, o, cb), {});
  }

  listJobs(req: ListJobsRequest): Promise<ListJobsResponse__Output> {
    return this.unary<ListJobsRequest, ListJobsResponse__Output>((r, o, cb) => this.client.listJobs(r, o, cb), req);
  }

  getJob(id: string): Promise<Job__Output> {
    return this.unary<{ id: string }, Job__Output>((r, o, cb) => this.client.getJob(r, o, cb), { id });
  }

  listBackups(req: ListCatalogBackupsRequest): Promise<ListCatalogBackupsResponse__Output> {
    return this.unary<ListCatalogBackupsRequest, ListCatalogBackupsResponse__Output>(
      (r, o, cb) => this.client.listCatalogBackups(r, o, cb),
      req,
    );
  }

  startBackup(req: StartBackupRequest): Promise<Job__Output> {
    return this.unary<StartBackupRequest, Job__Output>((r, o, cb) => this.client.startBackup(r, o, cb), req);
  }

  startRestore(req: StartRestoreRequest): Promise<Job__Output> {
    return this.unary<StartRestoreRequest, Job__Output>((r, o, cb) => this.client.startRestore(r, o, cb), req);
  }

  startSync(req: StartSyncRequest): Promise<Job__Output> {
    return this.unary<StartSyncRequest, Job__Output>((r, o, cb) => this.client.startSync(r, o, cb), req);
  }

  startVerify(req: StartVerifyRequest): Promise<Job__Output> {
    return this.unary<StartVerifyRequest, Job__Output>((r, o, cb) => this.client.startVerify(r, o, cb), req);
  }

  startPrune(req: StartPruneRequest): Promise<Job__Output> {
    return this.unary<StartPruneRequest, Job__Output>((r, o, cb) => this.client.startPrune(r, o, cb), req);
  }

  startGc(req: StartGcRequest): Promise<Job__Output> {
    return this.unary<StartGcRequest, Job__Output>((r, o, cb) => this.client.startGc(r, o, cb), req);
  }

  startSnapshot(req: StartSnapshotRequest): Promise<Job__Output> {
    return this.unary<StartSnapshotRequest, Job__Output>((r, o, cb) => this.client.startSnapshot(r, o, cb), req);
  }

  /** One lock job per site. */
  lockBackup(req: LockBackupRequest): Promise<LockBackupResponse__Output> {
    return this.unary<LockBackupRequest, LockBackupResponse__Output>((r, o, cb) => this.client.lockBackup(r, o, cb), req);
  }

  listRepairs(req: ListRepairsRequest): Promise<ListRepairsResponse__Output> {
    return this.unary<ListRepairsRequest, ListRepairsResponse__Output>((r, o, cb) => this.client.listRepairs(r, o, cb), req);
  }

  listAlerts(req: ListAlertsRequest): Promise<ListAlertsResponse__Output> {
    return this.unary<ListAlertsRequest, ListAlertsResponse__Output>((r, o, cb) => this.client.listAlerts(r, o, cb), req);
  }

  getReplicationStatus(): Promise<GetReplicationStatusResponse__Output> {
    return this.unary<object, GetReplicationStatusResponse__Output>((r, o, cb) => this.client.getReplicationStatus(r, o, cb), {});
  }

  getStatus(req: GetStatusRequest): Promise<GetStatusResponse__Output> {
    return this.unary<GetStatusRequest, GetStatusResponse__Output>((r, o, cb) => this.client.getStatus(r, o, cb), req);
  }

  /** Rebuilds the catalog's copies at a site from its storage (a long call on a big datastore). */
  importCatalog(req: ImportCatalogRequest): Promise<ImportCatalogResponse__Output> {
    return this.unary<ImportCatalogRequest, ImportCatalogResponse__Output>((r, o, cb) => this.client.importCatalog(r, o, cb), req);
  }

  // --- access: API tokens and the audit log (admin) ---
  createApiToken(req: CreateApiTokenRequest): Promise<CreateApiTokenResponse__Output> {
    return this.unary<CreateApiTokenRequest, CreateApiTokenResponse__Output>((r, o, cb) => this.client.createApiToken(r, o, cb), req);
  }

  listApiTokens(): Promise<ListApiTokensResponse__Output> {
    return this.unary<object, ListApiTokensResponse__Output>((r, o, cb) => this.client.listApiTokens(r, o, cb), {});
  }

  revokeApiToken(name: string): Promise<ApiToken__Output> {
    return this.unary<{ name: string }, ApiToken__Output>((r, o, cb) => this.client.revokeApiToken(r, o, cb), { name });
  }

  listAuditEntries(req: ListAuditEntriesRequest): Promise<ListAuditEntriesResponse__Output> {
    return this.unary<ListAuditEntriesRequest, ListAuditEntriesResponse__Output>((r, o, cb) => this.client.listAuditEntries(r, o, cb), req);
  }

  // --- RPO watch ---
  listRpo(req: ListRpoRequest): Promise<ListRpoResponse__Output> {
    return this.unary<ListRpoRequest, ListRpoResponse__Output>((r, o, cb) => this.client.listRpo(r, o, cb), req);
  }

  /** Cancels a job, or asks its worker to (dispatch: cancel). */
  cancelJob(id: string): Promise<Job__Output> {
    return this.unary<{ id: string }, Job__Output>((r, o, cb) => this.client.cancelJob(r, o, cb), { id });
  }

  // --- policies ---
  createPolicy(policyJson: string): Promise<PolicyEntry__Output> {
    return this.unary<CreatePolicyRequest, PolicyEntry__Output>((r, o, cb) => this.client.createPolicy(r, o, cb), { policyJson });
  }

  updatePolicy(req: UpdatePolicyRequest): Promise<PolicyEntry__Output> {
    return this.unary<UpdatePolicyRequest, PolicyEntry__Output>((r, o, cb) => this.client.updatePolicy(r, o, cb), req);
  }

  getPolicy(name: string): Promise<PolicyEntry__Output> {
    return this.unary<{ name: string }, PolicyEntry__Output>((r, o, cb) => this.client.getPolicy(r, o, cb), { name });
  }

  listPolicies(): Promise<ListPoliciesResponse__Output> {
    return this.unary<object, ListPoliciesResponse__Output>((r, o, cb) => this.client.listPolicies(r, o, cb), {});
  }

  deletePolicy(name: string): Promise<DeletePolicyResponse__Output> {
    return this.unary<{ name: string }, DeletePolicyResponse__Output>((r, o, cb) => this.client.deletePolicy(r, o, cb), { name });
  }

  assignPolicy(req: AssignPolicyRequest): Promise<PolicyEntry__Output> {
    return this.unary<AssignPolicyRequest, PolicyEntry__Output>((r, o, cb) => this.client.assignPolicy(r, o, cb), req);
  }

  /** The job, then each change, until it is finished (the stream ends) or fails. */
  async *watchJob(id: string): AsyncGenerator<Job__Output> {
    try {
      yield* readServerStream('controller', this.client.watchJob({ id }));
    } catch (err) {
      throw this.mapError(err);
    }
  }

  private async unary<Req, Res>(method: Unary<Req, Res>, req: Req): Promise<Res> {
    try {
      return await callUnary('controller', method, req, { deadline: deadlineIn(CALL_TIMEOUT_MS) });
    } catch (err) {
      throw this.mapError(err);
    }
  }

  private mapError(err: unknown): unknown {
    if (err instanceof AppError && err.code === 'UNAVAILABLE') {
      return new ControllerUnreachableError(this.location.address, this.location.source, err);
    }
    return err;
  }
}
