import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nestingDepth } from "./nesting-depth.js";

/** The plain definition, one character at a time: what nestingDepth must agree with. */
function reference(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

/** The depth JSON.parse sees in a parsed value. */
function jsonDepth(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(jsonDepth));
}

describe("nestingDepth", () => {
  it("counts brackets outside strings only", () => {
    expect(nestingDepth("", 128)).toBe(0);
    expect(nestingDepth('{"a":[1,{"b":[]}]}', 128)).toBe(4);
    expect(nestingDepth('{"[[[[":"]]]]{{"}', 128)).toBe(1);
    expect(nestingDepth('["\\"[[[", "\\\\", [[]]]', 128)).toBe(3);
    expect(nestingDepth('["\\\\\\"]"]', 128)).toBe(1);
  });

  it("stops just past the limit, and on an unterminated string", () => {
    expect(nestingDepth("[".repeat(500_000), 128)).toBe(129);
    expect(nestingDepth(`[[${'"'}[[[[`, 128)).toBe(2);
    expect(nestingDepth('["\\"', 128)).toBe(1);
  });

  it("agrees with the character-by-character definition on any text", () => {
    const structural = fc.constantFrom("[", "]", "{", "}", '"', "\\", "a", " ");
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: structural }),
          fc.string({ unit: structural, maxLength: 400 }),
        ),
        fc.integer({ min: 0, max: 12 }),
        (text, limit) => {
          expect(nestingDepth(text, limit)).toBe(reference(text, limit));
        },
      ),
    );
  });

  it("gives the depth JSON.parse finds in any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(nestingDepth(text, 1000)).toBe(jsonDepth(value));
      }),
    );
  });
});
