/**
 * The control API: JSON over HTTP on 127.0.0.1, so tests and the demo in another process can build the world,
 * act as users, read chats, set faults and read counters. Routes are listed in README.md.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { z } from "zod";
import type { ChatSpec, TelegramServer } from "./server.js";

const chatSpec = z.union([
  z.object({ user: z.number().int(), peer: z.number().int() }),
  z.object({ chat: z.number().int() }),
]);

const schemas = {
  user: z.object({
    firstName: z.string().optional(),
    username: z.string().optional(),
    premium: z.boolean().optional(),
    session: z.boolean().optional(),
    phone: z.string().optional(),
    password: z.string().min(1).optional(),
    passwordHint: z.string().optional(),
  }),
  bot: z.object({ firstName: z.string().optional(), username: z.string().optional() }),
  chat: z.object({
    kind: z.enum(["group", "channel"]),
    title: z.string().optional(),
    username: z.string().optional(),
    megagroup: z.boolean().optional(),
    creatorId: z.number().int(),
    admins: z.array(z.number().int()).optional(),
    members: z.array(z.number().int()).optional(),
  }),
  member: z.object({ userId: z.number().int(), admin: z.boolean().optional() }),
  session: z.object({ userId: z.number().int() }),
  sendText: z.object({
    from: z.number().int(),
    chat: chatSpec,
    text: z.string(),
    replyTo: z.number().int().optional(),
  }),
  sendDocument: z.object({
    from: z.number().int(),
    chat: chatSpec,
    name: z.string(),
    mimeType: z.string().optional(),
    contentBase64: z.string(),
    caption: z.string().optional(),
    thumbBase64: z.string().optional(),
  }),
  editText: z.object({
    from: z.number().int(),
    chat: chatSpec,
    messageId: z.number().int(),
    text: z.string().min(1),
  }),
  deleteMessages: z.object({ from: z.number().int(), chat: chatSpec, ids: z.array(z.number().int()).min(1) }),
  press: z.object({
    from: z.number().int(),
    chat: chatSpec,
    messageId: z.number().int(),
    data: z.string().optional(),
    text: z.string().optional(),
    timeoutMs: z.number().int().min(1).max(60_000).optional(),
  }),
  wait: z.object({
    chat: chatSpec,
    fromId: z.number().int().optional(),
    textIncludes: z.string().optional(),
    hasMedia: z.boolean().optional(),
    afterId: z.number().int().optional(),
    timeoutMs: z.number().int().min(1).max(600_000).optional(),
  }),
  conditions: z.object({ bandwidth: z.number().min(0).optional(), latencyMs: z.number().min(0).optional() }),
  faults: z.object({
    floodWaitShare: z.number().min(0).max(1).optional(),
    floodWaitSeconds: z.number().int().min(0).optional(),
    floodWaitMethods: z.array(z.string()).optional(),
    dropShare: z.number().min(0).max(1).optional(),
    dropAfterBytes: z.number().int().min(1).optional(),
    dropLimit: z.number().int().min(0).optional(),
    dropCallShare: z.number().min(0).max(1).optional(),
    dropCallMethods: z.array(z.string()).optional(),
    dropCallWhen: z.enum(["before", "after", "either"]).optional(),
    methodFaults: z
      .array(
        z.object({
          method: z.string(),
          code: z.number().int(),
          message: z.string(),
          times: z.number().int().min(1).optional(),
        }),
      )
      .optional(),
    badNonceHashCount: z.number().int().min(0).optional(),
  }),
  drop: z.object({ userId: z.number().int().optional() }),
  revoke: z.object({ userId: z.number().int() }),
  restart: z.object({ downMs: z.number().int().min(0).max(600_000).optional() }),
  outage: z.object({
    mode: z.enum(["refuse", "reset", "blackhole"]),
    durationMs: z.number().int().min(1).max(3_600_000).optional(),
  }),
  updateLog: z.object({
    sliceSize: z.number().int().min(1).optional(),
    maxEntries: z.number().int().min(1).optional(),
  }),
  loginCodes: z.object({ ttlMs: z.number().int().min(1) }),
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    throw new HttpError(
      400,
      r.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
    );
  }
  return r.data;
}

function chatFromQuery(q: URLSearchParams): ChatSpec {
  if (q.has("chat")) return { chat: Number(q.get("chat")) };
  if (q.has("user") && q.has("peer")) return { user: Number(q.get("user")), peer: Number(q.get("peer")) };
  throw new HttpError(400, "expected ?chat=ID or ?user=ID&peer=ID");
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
}

async function route(server: TelegramServer, req: IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const key = `${req.method} ${url.pathname}`;
  const body = req.method === "GET" ? {} : await readJson(req);
  const codePath = /^\/codes\/(\+?[\d\s-]+)$/.exec(decodeURIComponent(url.pathname));
  if (codePath && req.method === "GET") {
    const code = server.loginCode(codePath[1]!);
    if (!code) throw new HttpError(404, `no login code sent to ${codePath[1]}`);
    return code;
  }
  const statePath = /^\/users\/(\d+)\/update-state$/.exec(url.pathname);
  if (statePath && req.method === "GET") return server.updateState(Number(statePath[1]));
  const memberPath = /^\/chats\/(\d+)\/members(?:\/(\d+))?$/.exec(url.pathname);
  if (memberPath) {
    const chatId = Number(memberPath[1]);
    if (req.method === "POST") {
      const m = parse(schemas.member, body);
      server.addMember(chatId, m.userId, m.admin);
      return { ok: true };
    }
    if (req.method === "DELETE" && memberPath[2]) {
      server.removeMember(chatId, Number(memberPath[2]));
      return { ok: true };
    }
  }
  switch (key) {
    case "GET /health":
      return { ok: true };
    case "GET /info":
      return {
        mtproto: `${server.host}:${server.port}`,
        dcId: server.dcId,
        publicKeyPem: server.rsa.publicKeyPem,
        fingerprint: server.rsa.fingerprint,
      };
    case "POST /users":
      return server.createUser(parse(schemas.user, body));
    case "POST /bots":
      return server.createBot(parse(schemas.bot, body));
    case "POST /chats":
      return server.createChat(parse(schemas.chat, body));
    case "POST /sessions":
      return { session: server.createSession(parse(schemas.session, body).userId) };
    case "POST /act/send-text": {
      const b = parse(schemas.sendText, body);
      return server.sendText(b.from, b.chat, b.text, b.replyTo);
    }
    case "POST /act/send-document": {
      const b = parse(schemas.sendDocument, body);
      return server.sendDocument(b.from, b.chat, {
        name: b.name,
        mimeType: b.mimeType,
        content: Buffer.from(b.contentBase64, "base64"),
        caption: b.caption,
        thumb: b.thumbBase64 ? Buffer.from(b.thumbBase64, "base64") : undefined,
      });
    }
    case "POST /act/edit-text": {
      const b = parse(schemas.editText, body);
      return server.editText(b.from, b.chat, b.messageId, b.text);
    }
    case "POST /act/delete-messages": {
      const b = parse(schemas.deleteMessages, body);
      return { deleted: server.deleteMessages(b.from, b.chat, b.ids) };
    }
    case "POST /act/press-button": {
      const b = parse(schemas.press, body);
      return server.pressButton(b.from, b.chat, b.messageId, { data: b.data, text: b.text }, b.timeoutMs);
    }
    case "GET /messages":
      return server.messages(chatFromQuery(url.searchParams), url.searchParams.get("deleted") !== "false");
    case "POST /messages/wait": {
      const b = parse(schemas.wait, body);
      return server.waitForMessage(
        b.chat,
        (m) =>
          (b.fromId === undefined || m.fromId === b.fromId) &&
          (b.textIncludes === undefined || m.text.includes(b.textIncludes)) &&
          (b.hasMedia === undefined || (m.media !== null) === b.hasMedia) &&
          (b.afterId === undefined || m.id > b.afterId),
        b.timeoutMs ?? 10_000,
      );
    }
    case "GET /documents":
      return server.documents();
    case "GET /conditions":
      return server.faults.conditions;
    case "PUT /conditions":
      server.faults.setConditions(parse(schemas.conditions, body));
      return server.faults.conditions;
    case "GET /faults":
      return server.faults.settings;
    case "PUT /faults":
      server.faults.setFaults(parse(schemas.faults, body));
      return server.faults.settings;
    case "POST /connections/drop":
      return { dropped: server.dropConnections(parse(schemas.drop, body).userId) };
    case "POST /sessions/revoke":
      return { revoked: server.revokeSession(parse(schemas.revoke, body).userId) };
    case "GET /server":
      return { listening: server.listening, port: server.port, outage: server.outageState() };
    case "POST /server/stop":
      await server.stopListening();
      return { listening: server.listening, port: server.port };
    case "POST /server/start":
      await server.listen();
      return { listening: server.listening, port: server.port };
    case "POST /server/restart":
      await server.restart(parse(schemas.restart, body));
      return { listening: server.listening, port: server.port };
    case "GET /outage":
      return { outage: server.outageState() };
    case "PUT /outage":
      return { outage: await server.startOutage(parse(schemas.outage, body)) };
    case "DELETE /outage":
      await server.endOutage();
      return { outage: null };
    case "GET /update-log":
      return server.setUpdateLog({});
    case "PUT /update-log":
      return server.setUpdateLog(parse(schemas.updateLog, body));
    case "PUT /login-codes": {
      const { ttlMs } = parse(schemas.loginCodes, body);
      server.setLoginCodeTtl(ttlMs);
      return { ttlMs };
    }
    case "GET /counters":
      return server.counters();
  }
  throw new HttpError(404, `no route ${key}`);
}

export async function startControlApi(
  server: TelegramServer,
  port = 0,
): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    route(server, req)
      .then((result) => send(res, 200, result))
      .catch((e: unknown) => {
        const status = e instanceof HttpError ? e.status : 400;
        send(res, status, { error: e instanceof Error ? e.message : String(e) });
      });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", () => resolve());
  });
  const address = http.address();
  const url = `http://127.0.0.1:${address && typeof address === "object" ? address.port : 0}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
