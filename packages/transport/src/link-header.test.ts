import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TransportError } from "./errors.js";
import { nextLink, parseLinkHeader } from "./link-header.js";

describe("parseLinkHeader", () => {
  it("parses distribution's pagination link", () => {
    expect(parseLinkHeader('</v2/_catalog?last=b&n=2>; rel="next"')).toEqual([
      { target: "/v2/_catalog?last=b&n=2", rel: ["next"], params: { rel: "next" } },
    ]);
  });

  it("parses several links, unquoted values, odd spacing and multi-valued rel", () => {
    expect(
      parseLinkHeader(
        '<https://a/1>;rel=prev ,  <https://a/3> ; REL="next last" ; title="x, y";foo',
      ),
    ).toEqual([
      { target: "https://a/1", rel: ["prev"], params: { rel: "prev" } },
      {
        target: "https://a/3",
        rel: ["next", "last"],
        params: { rel: "next last", title: "x, y", foo: "" },
      },
    ]);
  });

  it.each([
    ["no angle brackets", "/v2/_catalog; rel=next"],
    ["an unclosed bracket", "</v2/_catalog; rel=next"],
    ["junk between parameters", "</a>; rel=next junk"],
    ["an unterminated quote", '</a>; rel="next'],
    ["whitespace inside the URI", "</a b>; rel=next"],
    ["a missing parameter value", "</a>; rel="],
  ])("rejects %s with a typed error", (_name, header) => {
    expect(() => parseLinkHeader(header)).toThrow(TransportError);
    try {
      parseLinkHeader(header);
    } catch (error) {
      expect((error as TransportError).code).toBe("HOIST_TRANSPORT_BAD_LINK");
    }
  });

  it.each([[undefined], [42], [{ toString: "not a function" }], [Object.create(null)]])(
    "refuses the non-string %o with a TransportError, not a TypeError",
    (value) => {
      expect(() => parseLinkHeader(value as unknown as string)).toThrow(
        expect.objectContaining({ code: "HOIST_TRANSPORT_BAD_LINK" }),
      );
    },
  );

  it("never throws anything but a TransportError on arbitrary input", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc
            .array(
              fc.constantFrom(
                "<",
                ">",
                "/v2/x?n=1",
                ";",
                "rel",
                "=",
                '"',
                "next",
                ",",
                " ",
                "\\",
                "\t",
              ),
              {
                maxLength: 30,
              },
            )
            .map((p) => p.join("")),
        ),
        (header) => {
          try {
            for (const link of parseLinkHeader(header)) expect(typeof link.target).toBe("string");
          } catch (error) {
            if (!TransportError.is(error) || error.code !== "HOIST_TRANSPORT_BAD_LINK") throw error;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("nextLink", () => {
  it("resolves the next link against the response URL", () => {
    const headers = new Headers({ link: '</v2/_catalog?last=b&n=2>; rel="next"' });
    expect(nextLink(headers, "http://127.0.0.1:5000/v2/_catalog?n=2")?.href).toBe(
      "http://127.0.0.1:5000/v2/_catalog?last=b&n=2",
    );
    expect(nextLink(new Headers(), "http://x/")).toBeUndefined();
    expect(nextLink(new Headers({ link: '</a>; rel="prev"' }), "http://x/")).toBeUndefined();
  });
});
