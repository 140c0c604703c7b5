import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger, displayUrl, scrub } from "../src/logger.js";

const BOT_TOKEN = `987654321:${"AAbbCC_dd-".repeat(3)}xyz12`;
const API_HASH = "0123456789abcdef".repeat(2);
const SESSION = `1${"BAAq".repeat(90)}==`;

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe("logger redaction", () => {
  it("hides secrets by key, by exact value and by shape", () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: "debug", destination, secrets: [API_HASH] });
    log.info({ botToken: BOT_TOKEN, config: { apiHash: API_HASH } }, "config loaded");
    log.warn(`login failed for https://bot${BOT_TOKEN}/getMe`);
    log.error({ err: new Error(`request to https://alice:hunter2@example.com/f.mp4 failed`) }, "download");
    log.debug({ note: `session was ${SESSION}` }, "session");
    log.info({ detail: `hash ${API_HASH} rejected` }, "by value");
    const text = lines.join("\n");
    assert.equal(lines.length, 5);
    for (const secret of [BOT_TOKEN, API_HASH, "hunter2", SESSION.slice(0, 60)]) {
      assert.ok(!text.includes(secret), `secret leaked: ${secret.slice(0, 12)}…\n${text}`);
    }
    assert.match(text, /\[redacted\]/);
    assert.match(text, /example\.com\/f\.mp4/, "the useful part of a URL stays");
    for (const line of lines) JSON.parse(line); // still valid JSON after scrubbing
  });

  it("keeps ordinary numbers and words", () => {
    assert.equal(scrub("job 12345 took 30s: 1:0"), "job 12345 took 30s: 1:0");
  });

  it("strips credentials from URLs shown to people", () => {
    assert.equal(displayUrl("https://u:p@host.example/a?b=1"), "https://host.example/a?b=1");
    assert.equal(displayUrl("https://host.example/a"), "https://host.example/a");
  });
});
