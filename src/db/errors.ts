/**
 * What repositories throw: a stable code and a plain message for logs. Wording for people belongs to the bot.
 */
export type StoreErrorCode = "JOB_NOT_FOUND" | "JOB_STATE";

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = "StoreError";
    this.code = code;
  }
}
