/**
 * `npm run bench:server`: how much upload.saveBigFilePart traffic the local Telegram server takes, run in its own
 * process. One JSON line: {"mib_s", "connections", "size_mib", ...}.
 *
 * What is measured, honestly: gramjs encrypts at ~50 MB/s per core, so on a 2-core machine no client can produce
 * 150 MiB/s of fresh MTProto traffic while the server also runs. The load generators (separate processes) log in
 * with ready-made sessions, then encrypt every message *before* the clock starts (real MTProto 2.0 messages with
 * unique msg_ids, valid msg_keys and salts, as the server checks them) and replay them over several TCP
 * connections at once. The clock runs from the first byte sent to the last rpc_result received, so the figure is
 * the server's own rate: receive, CRC32, AES-IGE decrypt, msg_key check, TL parse, write at offset on disk.
 * At the end each generator sends its file with messages.sendMedia and the server's SHA-256 is checked.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Api } from "telegram";
import { returnBigInt } from "telegram/Helpers.js";
import { StringSession } from "telegram/sessions/index.js";
import { TelegramControl } from "../test/support/telegram-control.js";
import {
  igeDecrypt,
  igeEncrypt,
  initCrypto,
  messageKeys,
  sha256,
} from "../test/support/telegram-server/crypto.js";
import { TransportCodec } from "../test/support/telegram-server/transport.js";

const MIB = 1024 * 1024;
/** USER_HZ: /proc reports CPU time in these ticks; 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;
const PART = 512 * 1024;

const { values } = parseArgs({
  options: {
    generator: { type: "boolean" },
    "size-mib": { type: "string", default: "1024" },
    generators: { type: "string", default: "2" },
    connections: { type: "string", default: "4" },
    workers: { type: "string" },
    server: { type: "string" },
    session: { type: "string" },
    parts: { type: "string" },
    "in-flight": { type: "string", default: "8" },
  },
});

// ---------------------------------------------------------------- generator process
interface Conn {
  socket: Socket;
  codec: TransportCodec;
  sessionId: Buffer;
  packets: Buffer[];
}

async function generator(): Promise<void> {
  initCrypto();
  const [host, port] = values.server!.split(":");
  const session = new StringSession(values.session!);
  await session.load();
  const authKey = session.getAuthKey()!.getKey()!;
  const keyIdBytes = Buffer.alloc(8);
  keyIdBytes.writeBigInt64LE(sha1KeyId(authKey), 0);
  const connections = Number(values.connections);
  const parts = Number(values.parts);
  const inFlight = Number(values["in-flight"]);
  let msgCounter = 0n;
  const baseMsgId = BigInt(Math.floor(Date.now() / 1000)) << 32n;
  const nextMsgId = () => baseMsgId + 4n * ++msgCounter;

  const encrypt = (salt: bigint, sessionId: Buffer, body: Buffer): Buffer => {
    const head = Buffer.alloc(32);
    head.writeBigInt64LE(salt, 0);
    sessionId.copy(head, 8);
    head.writeBigInt64LE(nextMsgId(), 16);
    head.writeInt32LE(Number(msgCounter) * 2 + 1, 24);
    head.writeInt32LE(body.length, 28);
    const pad = randomBytes(12 + ((16 - ((32 + body.length + 12) % 16)) % 16));
    const plain = Buffer.concat([head, body, pad]);
    const msgKey = sha256(authKey.subarray(88, 120), plain).subarray(8, 24);
    const { key, iv } = messageKeys(authKey, msgKey, 0);
    return Buffer.concat([keyIdBytes, msgKey, igeEncrypt(plain, key, iv)]);
  };

  const open = async (): Promise<Conn> => {
    const socket = connect(Number(port), host);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    socket.setNoDelay(true);
    return { socket, codec: new TransportCodec(), sessionId: randomBytes(8), packets: [] };
  };
  const send = (c: Conn, payload: Buffer) => {
    for (const p of c.codec.encode(payload)) c.socket.write(p);
  };
  /** Decrypts server messages and calls back with each top-level (or contained) body. */
  const onMessages = (c: Conn, cb: (body: Buffer) => void) => {
    c.socket.on("data", (chunk: Buffer) => {
      for (const packet of c.codec.push(chunk)) {
        const msgKey = packet.subarray(8, 24);
        const { key, iv } = messageKeys(authKey, msgKey, 8);
        const plain = igeDecrypt(packet.subarray(24), key, iv);
        const body = plain.subarray(32, 32 + plain.readInt32LE(28));
        if (body.readUInt32LE(0) === 0x73f1f8dc) {
          let off = 8;
          for (let i = 0; i < body.readInt32LE(4); i++) {
            const len = body.readInt32LE(off + 12);
            cb(body.subarray(off + 16, off + 16 + len));
            off += 16 + len;
          }
        } else cb(body);
      }
    });
  };

  // The server salt: a first message with salt 0 earns a bad_server_salt carrying the right one.
  const conns = await Promise.all([...Array(connections)].map(open));
  const first = conns[0]!;
  const salt = await new Promise<bigint>((resolve) => {
    onMessages(first, (body) => {
      if (body.readUInt32LE(0) === 0xedab447b) resolve(body.readBigInt64LE(20));
    });
    send(first, encrypt(0n, first.sessionId, new Api.Ping({ pingId: returnBigInt(1) }).getBytes()));
  });
  first.socket.removeAllListeners("data");

  // Encrypt every part before the clock starts.
  const data = randomBytes(PART);
  const fileId = returnBigInt(randomBytes(8).readBigInt64LE(0));
  const fileHash = createHash("sha256");
  for (let part = 0; part < parts; part++) {
    const c = conns[part % connections]!;
    const body = new Api.upload.SaveBigFilePart({
      fileId,
      filePart: part,
      fileTotalParts: parts,
      bytes: data,
    }).getBytes();
    c.packets.push(encrypt(salt, c.sessionId, body));
    fileHash.update(data);
  }
  process.stdout.write("ready\n");
  const stdinLines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => stdinLines.once("line", () => resolve()));

  const started = performance.timeOrigin + performance.now();
  let errors = 0;
  await Promise.all(
    conns.map(
      (c) =>
        new Promise<void>((resolve) => {
          let sent = 0;
          let done = 0;
          const total = c.packets.length;
          // Keep `inFlight` parts outstanding per connection, as an uploader would.
          const pump = () => {
            while (sent < total && sent - done < inFlight) send(c, c.packets[sent++]!);
          };
          onMessages(c, (body) => {
            if (body.readUInt32LE(0) !== 0xf35c6d01) return;
            if (body.readUInt32LE(12) !== 0x997275b5) errors++;
            done++;
            c.packets[done - 1] = Buffer.alloc(0);
            if (done === total) resolve();
            else pump();
          });
          if (total === 0) resolve();
          pump();
        }),
    ),
  );
  const finished = performance.timeOrigin + performance.now();
  process.stdout.write(`${JSON.stringify({ started, finished, errors })}\n`);
  // The parent reads the server's CPU time now, then lets us send the file (whose hashing is not timed).
  await new Promise<void>((resolve) => stdinLines.once("line", () => resolve()));

  // Send the file so the server assembles and hashes it.
  const sendMedia = new Api.messages.SendMedia({
    peer: new Api.InputPeerSelf(),
    media: new Api.InputMediaUploadedDocument({
      file: new Api.InputFileBig({ id: fileId, parts, name: "bench.bin" }),
      mimeType: "application/octet-stream",
      attributes: [],
    }),
    message: "",
    randomId: returnBigInt(randomBytes(8).readBigInt64LE(0)),
  });
  const c0 = conns[0]!;
  c0.socket.removeAllListeners("data");
  const sent = new Promise<void>((resolve) =>
    onMessages(c0, (body) => (body.readUInt32LE(0) === 0xf35c6d01 ? resolve() : undefined)),
  );
  send(c0, encrypt(salt, c0.sessionId, sendMedia.getBytes()));
  await sent;
  for (const c of conns) c.socket.destroy();
  stdinLines.close();
  process.stdout.write(`${JSON.stringify({ bytes: parts * PART, sha256: fileHash.digest("hex") })}\n`);
}

function sha1KeyId(key: Buffer): bigint {
  return createHash("sha1").update(key).digest().readBigInt64LE(12);
}

// ---------------------------------------------------------------- parent
function lines(child: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
}

async function nextLine(it: AsyncIterator<string>, what: string, ms = 300_000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: timed out`)), ms);
      }),
    ]);
    if (r.done) throw new Error(`${what}: process ended`);
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

async function parent(): Promise<void> {
  const sizeMib = Number(values["size-mib"]);
  const generators = Number(values.generators);
  const connections = Number(values.connections);
  const tsx = ["--import", "tsx"];
  const serverArgs = [
    ...(process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    ...tsx,
    "test/support/telegram-server/cli.ts",
  ];
  const server = spawn(process.execPath, serverArgs, {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...(values.workers ? { LOCAL_TELEGRAM_DECRYPT_WORKERS: values.workers } : {}) },
  });
  const children: ChildProcess[] = [server];
  try {
    const start = JSON.parse(await nextLine(lines(server), "server start")) as {
      mtproto: string;
      control: string;
    };
    const control = new TelegramControl(start.control);
    const partsEach = Math.ceil((sizeMib * MIB) / PART / generators);
    const gens = await Promise.all(
      [...Array(generators)].map(async () => {
        const user = await control.createUser({ premium: true, session: true });
        const child = spawn(
          process.execPath,
          [
            ...tsx,
            "scripts/bench-server.ts",
            "--generator",
            `--server=${start.mtproto}`,
            `--session=${user.session}`,
            `--connections=${connections}`,
            `--parts=${partsEach}`,
            `--in-flight=${values["in-flight"]}`,
          ],
          { stdio: ["pipe", "pipe", "inherit"] },
        );
        children.push(child);
        return { child, out: lines(child) };
      }),
    );
    for (const g of gens) await nextLine(g.out, "generator ready");
    const cpuBefore = cpuSeconds(server.pid!);
    for (const g of gens) g.child.stdin!.write("go\n");
    const timings = await Promise.all(
      gens.map(async (g) => JSON.parse(await nextLine(g.out, "generator timing")) as GenTiming),
    );
    const serverCpu = cpuSeconds(server.pid!) - cpuBefore;
    for (const g of gens) g.child.stdin!.write("send\n");
    const files = await Promise.all(
      gens.map(async (g) => JSON.parse(await nextLine(g.out, "generator result")) as GenFile),
    );
    const results = timings.map((t, i) => ({ ...t, ...files[i]! }));
    const docs = await control.documents();
    const hashesOk = results.every((r) => docs.some((d) => d.sha256 === r.sha256));
    const bytes = results.reduce((s, r) => s + r.bytes, 0);
    const seconds =
      (Math.max(...results.map((r) => r.finished)) - Math.min(...results.map((r) => r.started))) / 1000;
    const counters = await control.counters();
    process.stdout.write(
      `${JSON.stringify({
        mib_s: Math.round((bytes / MIB / seconds) * 10) / 10,
        connections: generators * connections,
        size_mib: Math.round(bytes / MIB),
        seconds: Math.round(seconds * 100) / 100,
        // CPU the server process (all its threads) used in that window: a figure other load cannot inflate.
        server_cpu_seconds: Math.round(serverCpu * 100) / 100,
        mib_per_server_cpu_second: Math.round((bytes / MIB / serverCpu) * 10) / 10,
        generators,
        server_decrypt_workers: values.workers ? Number(values.workers) : Math.min(4, availableParallelism()),
        cores: availableParallelism(),
        parts_in_flight_per_connection: Number(values["in-flight"]),
        rpc_errors: results.reduce((s, r) => s + r.errors, 0),
        sha256_match: hashesOk,
        bytes_in: counters.bytesIn,
        load: "pre-encrypted MTProto 2.0 saveBigFilePart messages replayed over TCP; clock: first byte sent to last rpc_result",
      })}\n`,
    );
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  }
}

interface GenTiming {
  started: number;
  finished: number;
  errors: number;
}

interface GenFile {
  bytes: number;
  sha256: string;
}

/** utime + stime of a process, all threads, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

(values.generator ? generator() : parent()).catch((e: unknown) => {
  process.stderr.write(`bench-server: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
