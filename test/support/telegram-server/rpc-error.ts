/** An RPC answered with rpc_error: Telegram's numeric code and its UPPER_SNAKE message. */
export class RpcFailure extends Error {
  constructor(
    readonly code: number,
    readonly errorMessage: string,
  ) {
    super(`${code} ${errorMessage}`);
  }
}
