import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ResponseHeaders } from "./response-headers.js";

const NAMES = [
  "Content-Type",
  "content-type",
  "Set-Cookie",
  "set-cookie",
  "X-A",
  "x-b",
  "Link",
  "WWW-Authenticate",
];

/** Everything a caller can observe, for comparing with Node's own Headers. */
function observe(headers: Headers) {
  return {
    entries: [...headers.entries()],
    keys: [...headers.keys()],
    values: [...headers.values()],
    iterated: [...headers],
    each: (() => {
      const seen: string[] = [];
      headers.forEach((value, key) => {
        seen.push(`${key}=${value}`);
      });
      return seen;
    })(),
    get: NAMES.map((name) => headers.get(name)),
    has: NAMES.map((name) => headers.has(name)),
    cookies: headers.getSetCookie(),
  };
}

describe("ResponseHeaders", () => {
  it("behaves like Headers for any list of appended headers", () => {
    const value = fc.stringMatching(/^[ \t]?[\x21-\x7e]{0,12}(?: [\x21-\x7e]{1,5})?[ \t]?$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...NAMES), value), { maxLength: 12 }),
        (list) => {
          const ours = new ResponseHeaders(list);
          const node = new Headers();
          for (const [name, v] of list) node.append(name, v);
          expect(observe(ours)).toEqual(observe(node));
        },
      ),
    );
  });

  it("replaces and deletes case-insensitively", () => {
    const headers = new ResponseHeaders([
      ["Link", "<a>"],
      ["link", "<b>"],
    ]);
    expect(headers.get("LINK")).toBe("<a>, <b>");
    headers.set("LINK", "<c>");
    expect([...headers]).toEqual([["link", "<c>"]]);
    headers.delete("Link");
    expect(headers.has("link")).toBe(false);
    expect(headers.get("link")).toBeNull();
    expect(String(headers)).toBe("[object Headers]");
  });

  it.each([
    ["bad name", "x y", "v", /invalid header name "x y"/],
    ["empty name", "", "v", /invalid header name ""/],
    ["line break in a value", "x-a", "a\r\nb", /invalid value/],
  ])("refuses a %s as Headers does", (_, name, value, message) => {
    expect(() => new ResponseHeaders([[name, value]])).toThrow(TypeError);
    expect(() => new ResponseHeaders([[name, value]])).toThrow(message);
    expect(() => new Headers([[name, value]])).toThrow(TypeError);
  });
});
