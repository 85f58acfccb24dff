import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LayoutError } from "./errors.js";
import { IMAGE_LAYOUT_VERSION, LAYOUT_FILE_CONTENT, parseLayoutFile } from "./layout-file.js";

function codeOf(input: Uint8Array | string): string | undefined {
  try {
    parseLayoutFile(input);
    return undefined;
  } catch (error) {
    expect(LayoutError.is(error), String(error)).toBe(true);
    return (error as LayoutError).code;
  }
}

describe("parseLayoutFile", () => {
  it("reads what this package writes and what other tools write", () => {
    expect(parseLayoutFile(LAYOUT_FILE_CONTENT)).toEqual({ imageLayoutVersion: "1.0.0" });
    // go-containerregistry indents it; skopeo writes it compact.
    expect(parseLayoutFile('{\n    "imageLayoutVersion": "1.0.0"\n}')).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    expect(parseLayoutFile(Buffer.from('{"imageLayoutVersion":"1.0.0","x":[1]}'))).toEqual({
      imageLayoutVersion: "1.0.0",
      x: [1],
    });
  });

  it.each([
    ["", "HOIST_LAYOUT_INVALID_LAYOUT_FILE"],
    ["null", "HOIST_LAYOUT_INVALID_LAYOUT_FILE"],
    ['"1.0.0"', "HOIST_LAYOUT_INVALID_LAYOUT_FILE"],
    ['["1.0.0"]', "HOIST_LAYOUT_INVALID_LAYOUT_FILE"],
    ["{}", "HOIST_LAYOUT_INVALID_LAYOUT_FILE"],
    ['{"imageLayoutVersion":1}', "HOIST_LAYOUT_INVALID_LAYOUT_FILE"],
    ['{"imageLayoutVersion":null}', "HOIST_LAYOUT_INVALID_LAYOUT_FILE"],
    ['{"imageLayoutVersion":"1.1.0"}', "HOIST_LAYOUT_UNSUPPORTED_VERSION"],
    ['{"imageLayoutVersion":"2.0.0"}', "HOIST_LAYOUT_UNSUPPORTED_VERSION"],
    ['{"imageLayoutVersion":" 1.0.0"}', "HOIST_LAYOUT_UNSUPPORTED_VERSION"],
    [
      `{"imageLayoutVersion":"1.0.0","pad":"${"x".repeat(70_000)}"}`,
      "HOIST_LAYOUT_INVALID_LAYOUT_FILE",
    ],
  ])("refuses %j with %s", (input, code) => {
    expect(codeOf(input)).toBe(code);
  });

  it("refuses bytes that are not UTF-8", () => {
    expect(codeOf(Uint8Array.from([0x7b, 0xc3, 0x28, 0x7d]))).toBe(
      "HOIST_LAYOUT_INVALID_LAYOUT_FILE",
    );
  });

  it("accepts any extra fields next to version 1.0.0 and keeps them", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (extra) => {
        const document = { ...extra, imageLayoutVersion: IMAGE_LAYOUT_VERSION };
        expect(parseLayoutFile(JSON.stringify(document))).toEqual(
          JSON.parse(JSON.stringify(document)),
        );
      }),
    );
  });

  it("refuses every other version string", () => {
    fc.assert(
      fc.property(
        fc.string().filter((version) => version !== IMAGE_LAYOUT_VERSION),
        (version) => {
          expect(codeOf(JSON.stringify({ imageLayoutVersion: version }))).toBe(
            "HOIST_LAYOUT_UNSUPPORTED_VERSION",
          );
        },
      ),
    );
  });

  it("answers any input with a layout file or a LayoutError, nothing else", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.uint8Array(), fc.json()), (input) => {
        const code = codeOf(input);
        if (code === undefined) expect(parseLayoutFile(input).imageLayoutVersion).toBe("1.0.0");
      }),
    );
  });
});
