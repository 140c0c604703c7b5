/**
 * Proves that a client talked to the local Telegram server through our gramjs replacements from its first packet:
 * the lean framer sent every byte the server received, and zlib's CRC32 covered every packet both ways (gramjs
 * computes one CRC per TCP packet, over all of it but the 4-byte CRC itself). A client that ran stock gramjs for
 * even one packet leaves bytes unaccounted for.
 */
import { patchUsage } from "../../../src/telegram/gramjs-internals.js";
import type { RunningTelegramServer } from "../../support/telegram-server/index.js";

/** The CRC32 trailing each TCP-full packet, not covered by its own checksum. */
const CRC_BYTES = 4;
/** Bounded wait for the last packets in flight (loopback delivers them in milliseconds). */
const SETTLE_TIMEOUT_MS = 5_000;
const POLL_MS = 10;

export type PatchUsage = typeof patchUsage;

export interface WireMark {
  usage: PatchUsage;
  bytesIn: number;
  bytesOut: number;
}

/** Where the counters stand now: take it before the client's first packet. */
export function markWire(srv: RunningTelegramServer): WireMark {
  const { bytesIn, bytesOut } = srv.server.counters();
  return { usage: structuredClone(patchUsage), bytesIn, bytesOut };
}

export interface WireAccount {
  /** Bytes the server received since the mark, and those the lean framer sent. */
  received: number;
  framed: number;
  /** Bytes on the wire both ways since the mark, and those zlib's CRC32 accounts for. */
  wire: number;
  crcCovered: number;
  /** What each replacement did since the mark. */
  usage: PatchUsage;
}

function account(srv: RunningTelegramServer, mark: WireMark): WireAccount {
  const { bytesIn, bytesOut } = srv.server.counters();
  const usage = usageSince(mark.usage);
  return {
    received: bytesIn - mark.bytesIn,
    framed: usage.framedBytes,
    wire: bytesIn - mark.bytesIn + (bytesOut - mark.bytesOut),
    crcCovered: usage.crc32Bytes + CRC_BYTES * usage.crc32Calls,
    usage,
  };
}

function usageSince(before: PatchUsage): PatchUsage {
  return {
    packedBatches: patchUsage.packedBatches - before.packedBatches,
    encrypted: {
      native: patchUsage.encrypted.native - before.encrypted.native,
      wasm: patchUsage.encrypted.wasm - before.encrypted.wasm,
      gramjs: patchUsage.encrypted.gramjs - before.encrypted.gramjs,
    },
    framedPackets: patchUsage.framedPackets - before.framedPackets,
    framedBytes: patchUsage.framedBytes - before.framedBytes,
    crc32Calls: patchUsage.crc32Calls - before.crc32Calls,
    crc32Bytes: patchUsage.crc32Bytes - before.crc32Bytes,
    igeDecryptions: patchUsage.igeDecryptions - before.igeDecryptions,
  };
}

/**
 * The account once both sides agree (packets still in flight when called arrive within milliseconds), or as it
 * stands after a bounded wait when they never do: the caller's assertions then show the gap.
 */
export async function settledAccount(srv: RunningTelegramServer, mark: WireMark): Promise<WireAccount> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let now = account(srv, mark);
  while ((now.framed !== now.received || now.crcCovered !== now.wire) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    now = account(srv, mark);
  }
  return now;
}
