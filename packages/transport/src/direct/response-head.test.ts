import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fieldValue, framing, parseResponseHead, type ResponseHead } from "./response-head.js";

const bytes = (text: string) => Buffer.from(text, "latin1");

function head(text: string): ResponseHead {
  const parsed = parseResponseHead(bytes(text));
  if (parsed.kind !== "head") throw new Error(`expected a head, got ${JSON.stringify(parsed)}`);
  return parsed.head;
}

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}$/);
const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/);
const fields = fc.array(fc.tuple(token, value), { maxLength: 20 });
const status = fc.integer({ min: 100, max: 999 });

function render(code: number, list: ReadonlyArray<readonly [string, string]>): string {
  return `HTTP/1.1 ${code} Reason\r\n${list.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
}

describe("parseResponseHead", () => {
  it("reads the status, the reason and every field, and where the body starts", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Two:  a b \r\n\r\nhello";
    expect(parseResponseHead(bytes(text))).toEqual({
      kind: "head",
      head: {
        version: "1.1",
        status: 200,
        reason: "OK",
        fields: [
          ["content-length", "5"],
          ["x-two", "a b"],
        ],
        length: text.length - 5,
      },
    });
  });

  it("reads the version of the status line", () => {
    const parsed = parseResponseHead(bytes("HTTP/1.0 404 Not Found\r\n\r\n"));
    expect(parsed).toMatchObject({ kind: "head", head: { version: "1.0", status: 404 } });
  });

  it("gives back exactly what a well-formed head holds, whatever follows it", () => {
    fc.assert(
      fc.property(status, fields, fc.uint8Array({ maxLength: 64 }), (code, list, tail) => {
        const text = render(code, list);
        const parsed = parseResponseHead(Buffer.concat([bytes(text), tail]));
        expect(parsed).toEqual({
          kind: "head",
          head: {
            version: "1.1",
            status: code,
            reason: "Reason",
            fields: list.map(([n, v]) => [n.toLowerCase(), v]),
            length: text.length,
          },
        });
      }),
    );
  });

  it("says incomplete for every proper prefix of a head", () => {
    fc.assert(
      fc.property(status, fields, fc.nat(), (code, list, cut) => {
        const text = bytes(render(code, list));
        const prefix = text.subarray(0, cut % text.length);
        expect(parseResponseHead(prefix)).toEqual({ kind: "incomplete" });
      }),
    );
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (input) => {
        const parsed = parseResponseHead(input);
        expect(["incomplete", "head", "invalid"]).toContain(parsed.kind);
      }),
    );
  });

  it.each([
    ["a status line of another protocol", "HTTP/2 200 OK\r\n\r\n"],
    ["a two-digit status", "HTTP/1.1 20 OK\r\n\r\n"],
    ["a folded field", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n"],
    ["space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n"],
    ["a line without a colon", "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n"],
    ["a bare LF inside the head", "HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n"],
    ["a NUL in a value", "HTTP/1.1 200 OK\r\nA: b\u0000c\r\n\r\n"],
    ["an empty field name", "HTTP/1.1 200 OK\r\n: b\r\n\r\n"],
  ])("refuses %s", (_, text) => {
    expect(parseResponseHead(bytes(text)).kind).toBe("invalid");
  });

  it("refuses a head longer than the limit, or with too many fields", () => {
    const long = `HTTP/1.1 200 OK\r\nA: ${"x".repeat(100)}`;
    expect(parseResponseHead(bytes(long), { maxBytes: 64, maxFields: 10 }).kind).toBe("invalid");
    const many = render(200, [
      ["a", "1"],
      ["b", "2"],
      ["c", "3"],
    ]);
    expect(parseResponseHead(bytes(many), { maxBytes: 1024, maxFields: 2 }).kind).toBe("invalid");
    expect(parseResponseHead(bytes(many), { maxBytes: 1024, maxFields: 3 }).kind).toBe("head");
  });
});

describe("framing", () => {
  it("reads a body of one stated length", () => {
    expect(framing(head("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"))).toEqual({
      kind: "length",
      length: 42,
    });
    // Repeated but equal, in one field or several, as RFC 9110 allows.
    expect(
      framing(head("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\ncontent-length: 7\r\n\r\n")),
    ).toEqual({ kind: "length", length: 7 });
  });

  it("has no body for 204 and 304", () => {
    expect(framing(head("HTTP/1.1 204 No Content\r\n\r\n"))).toEqual({ kind: "none" });
    expect(framing(head("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"))).toEqual({
      kind: "none",
    });
  });

  it("reads a chunked body", () => {
    expect(framing(head("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"))).toEqual({
      kind: "chunked",
    });
  });

  it.each([
    ["another transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"],
    ["both framings", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"],
    ["two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"],
    ["a signed length", "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\n"],
    ["a huge length", "HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\n"],
  ])("never reads %s", (_, text) => {
    expect(framing(head(text)).kind).toBe("unsupported");
  });

  it("says when a body ends with the connection, and when an answer is interim", () => {
    expect(framing(head("HTTP/1.1 200 OK\r\n\r\n"))).toEqual({ kind: "close" });
    expect(framing(head("HTTP/1.1 100 Continue\r\n\r\n"))).toEqual({ kind: "interim" });
  });
});

describe("fieldValue", () => {
  it("joins repeated fields and says when one is absent", () => {
    const parsed = head("HTTP/1.1 200 OK\r\nVary: a\r\nvary: b\r\n\r\n");
    expect(fieldValue(parsed, "vary")).toBe("a, b");
    expect(fieldValue(parsed, "etag")).toBeUndefined();
  });
});
