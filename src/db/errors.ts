/**
 * What repositories throw: a stable code and a plain message for logs. Wording for people belongs to the bot.
 *
 * - JOB_NOT_FOUND: no job with that id.
 * - JOB_STATE: the job's status does not allow the move (e.g. it was cancelled meanwhile).
 * - LEASE_LOST: the caller does not hold the job's lease (never did, released it, or it expired and another worker
 *   claimed the job). The worker must stop working on the job.
 * - USER_QUEUE_FULL / QUEUE_FULL: enqueueing would pass the per-user or the total cap; nothing was enqueued and
 *   `fits` says how many jobs would still fit.
 * - BACKUP_UNSUPPORTED: an online backup was asked of PostgreSQL, which pg_dump backs up.
 */
export type StoreErrorCode =
  | "JOB_NOT_FOUND"
  | "JOB_STATE"
  | "LEASE_LOST"
  | "USER_QUEUE_FULL"
  | "QUEUE_FULL"
  | "BACKUP_UNSUPPORTED";

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** For USER_QUEUE_FULL and QUEUE_FULL: how many jobs would still be accepted (under both caps). */
  readonly fits: number | undefined;
  constructor(code: StoreErrorCode, message: string, details: { fits?: number } = {}) {
    super(message);
    this.name = "StoreError";
    this.code = code;
    this.fits = details.fits;
  }
}
