import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseContentRange, parseRange, uploadRange } from "./http-ranges.js";

describe("parseRange", () => {
  it.each([
    [undefined, 10, { kind: "whole" }],
    ["bytes=0-0", 10, { kind: "range", start: 0, end: 0 }],
    ["bytes=2-5", 10, { kind: "range", start: 2, end: 5 }],
    ["bytes=2-", 10, { kind: "range", start: 2, end: 9 }],
    ["bytes=-3", 10, { kind: "range", start: 7, end: 9 }],
    ["bytes=-30", 10, { kind: "range", start: 0, end: 9 }],
    ["bytes=5-99", 10, { kind: "range", start: 5, end: 9 }],
    ["bytes=10-", 10, { kind: "unsatisfiable" }],
    ["bytes=-0", 10, { kind: "unsatisfiable" }],
    ["bytes=0-", 0, { kind: "unsatisfiable" }],
    ["bytes=-3", 0, { kind: "unsatisfiable" }],
    ["bytes=5-2", 10, { kind: "invalid" }],
    ["bytes=-", 10, { kind: "invalid" }],
    ["items=0-1", 10, { kind: "invalid" }],
    ["bytes=0-1,4-5", 10, { kind: "whole" }],
  ] as const)("reads %s of %d bytes", (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it("always yields a range inside the blob (property)", () => {
    fc.assert(
      fc.property(
        fc.nat(1000),
        fc.option(fc.nat(2000), { nil: undefined }),
        fc.option(fc.nat(2000), { nil: undefined }),
        (size, first, last) => {
          const header = `bytes=${first ?? ""}-${last ?? ""}`;
          const result = parseRange(header, size);
          if (result.kind === "range") {
            expect(result.start).toBeGreaterThanOrEqual(0);
            expect(result.start).toBeLessThanOrEqual(result.end);
            expect(result.end).toBeLessThan(size);
          }
        },
      ),
    );
  });
});

describe("parseContentRange", () => {
  it.each([
    ["0-4", { start: 0, end: 4 }],
    ["bytes=5-9", { start: 5, end: 9 }],
    ["bytes 5-9/100", { start: 5, end: 9 }],
    ["5-9/*", { start: 5, end: 9 }],
    ["9-5", undefined],
    ["-5", undefined],
    ["a-b", undefined],
    ["", undefined],
  ])("reads %s", (header, expected) => {
    expect(parseContentRange(header)).toEqual(expected);
  });

  it("round-trips any valid range (property)", () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        expect(parseContentRange(`${start}-${end}`)).toEqual({ start, end });
      }),
    );
  });
});

it("reports upload progress as distribution does", () => {
  expect(uploadRange(0)).toBe("0-0");
  expect(uploadRange(1)).toBe("0-0");
  expect(uploadRange(10)).toBe("0-9");
});
