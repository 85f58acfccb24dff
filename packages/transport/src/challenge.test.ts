import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { challengeScopes, parseChallenges, preferredChallenge } from "./challenge.js";
import { TransportError } from "./errors.js";

describe("parseChallenges", () => {
  const cases: Array<[string, string | string[], unknown]> = [
    [
      "distribution's bearer challenge",
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"',
      [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:library/ubuntu:pull",
          },
        },
      ],
    ],
    [
      "basic",
      'Basic realm="Registry Realm"',
      [{ scheme: "basic", params: { realm: "Registry Realm" } }],
    ],
    ["scheme only", "Basic", [{ scheme: "basic", params: {} }]],
    [
      "odd case and spacing",
      '  BEARER   Realm = "https://r/t" ,  SERVICE=svc  ',
      [{ scheme: "bearer", params: { realm: "https://r/t", service: "svc" } }],
    ],
    [
      "unquoted URL realm",
      "Bearer realm=https://ghcr.io/token,service=ghcr.io",
      [{ scheme: "bearer", params: { realm: "https://ghcr.io/token", service: "ghcr.io" } }],
    ],
    [
      "escapes inside quoted strings",
      'Basic realm="say \\"hi\\" \\\\ there"',
      [{ scheme: "basic", params: { realm: 'say "hi" \\ there' } }],
    ],
    [
      "commas inside quoted strings",
      'Bearer realm="https://r/t",scope="repository:a:pull,push repository:b:pull"',
      [
        {
          scheme: "bearer",
          params: { realm: "https://r/t", scope: "repository:a:pull,push repository:b:pull" },
        },
      ],
    ],
    [
      "several challenges in one header",
      'Basic realm="b", Bearer realm="https://r/t", service="s"',
      [
        { scheme: "basic", params: { realm: "b" } },
        { scheme: "bearer", params: { realm: "https://r/t", service: "s" } },
      ],
    ],
    [
      "a parameterless challenge followed by another",
      'Negotiate, Basic realm="x"',
      [
        { scheme: "negotiate", params: {} },
        { scheme: "basic", params: { realm: "x" } },
      ],
    ],
    [
      "token68",
      "Negotiate YIIB+w/x==, Basic realm=x",
      [
        { scheme: "negotiate", params: {}, token68: "YIIB+w/x==" },
        { scheme: "basic", params: { realm: "x" } },
      ],
    ],
    [
      "several header lines",
      ['Basic realm="a"', 'Bearer realm="https://r/t"'],
      [
        { scheme: "basic", params: { realm: "a" } },
        { scheme: "bearer", params: { realm: "https://r/t" } },
      ],
    ],
    [
      "empty list elements",
      ' , Basic realm="a",, ,Bearer realm="b",',
      [
        { scheme: "basic", params: { realm: "a" } },
        { scheme: "bearer", params: { realm: "b" } },
      ],
    ],
    ["an empty header", "", []],
    [
      "a repeated parameter keeps the first",
      'Bearer realm="https://good/t", realm="https://evil/t"',
      [{ scheme: "bearer", params: { realm: "https://good/t" } }],
    ],
    [
      "insufficient_scope",
      'Bearer realm="http://127.0.0.1:1/token",service="svc",scope="repository:bar:pull repository:foo:pull,push",error="insufficient_scope"',
      [
        {
          scheme: "bearer",
          params: {
            realm: "http://127.0.0.1:1/token",
            service: "svc",
            scope: "repository:bar:pull repository:foo:pull,push",
            error: "insufficient_scope",
          },
        },
      ],
    ],
  ];

  it.each(cases)("parses %s", (_name, header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });

  const malformed: Array<[string, string]> = [
    ["an unterminated quote", 'Bearer realm="https://r/t'],
    ["a control character in a quoted value", 'Basic realm="a\u0001b"'],
    ["junk where a scheme belongs", '"quoted" realm=x'],
    ["a missing separator between parameters", 'Bearer realm="a" service="b"'],
    ["junk after a token68", "Negotiate abc== def"],
    ["a scheme glued to a quote", 'Basic"realm"'],
    ["a stray equals sign", "Bearer =x"],
  ];

  it.each(malformed)("rejects %s with a typed error", (_name, header) => {
    let caught: unknown;
    try {
      parseChallenges(header);
    } catch (error) {
      caught = error;
    }
    expect(TransportError.is(caught)).toBe(true);
    expect((caught as TransportError).code).toBe("HOIST_TRANSPORT_BAD_CHALLENGE");
    expect((caught as Error).message).toMatch(
      /Malformed WWW-Authenticate header: .* at offset \d+/,
    );
  });

  it("rejects a huge header before parsing it", () => {
    const header = `Bearer realm="${"a".repeat(20_000)}"`;
    expect(() => parseChallenges(header)).toThrow(/more than the 16384/);
  });

  it("rejects too many challenges and too many parameters", () => {
    expect(() => parseChallenges(Array.from({ length: 40 }, () => "Basic").join(", "))).toThrow(
      /more than 32 challenges/,
    );
    const params = Array.from({ length: 70 }, (_, i) => `p${i}=v`).join(", ");
    expect(() => parseChallenges(`Bearer ${params}`)).toThrow(/more than 64 parameters/);
  });

  it.each([[undefined], [null], [42], [{ realm: "x" }]])(
    "refuses the non-header %j with a TransportError, not a TypeError",
    (value) => {
      expect(() => parseChallenges(value as unknown as string)).toThrow(
        expect.objectContaining({ code: "HOIST_TRANSPORT_BAD_CHALLENGE" }),
      );
    },
  );

  it("does not let a parameter named __proto__ reach the prototype", () => {
    const [challenge] = parseChallenges('Bearer __proto__="x", realm="r"');
    expect(challenge?.params.realm).toBe("r");
    expect(Object.getPrototypeOf(challenge?.params)).toBeNull();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("never throws anything but a TransportError on arbitrary input", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: "binary", maxLength: 300 }),
          fc
            .array(
              fc.constantFrom(
                "Bearer",
                "Basic",
                " ",
                ",",
                "=",
                '"',
                "\\",
                "realm",
                "x",
                "\t",
                "/",
                "==",
              ),
              {
                maxLength: 40,
              },
            )
            .map((parts) => parts.join("")),
        ),
        (header) => {
          try {
            const result = parseChallenges(header);
            for (const challenge of result)
              expect(challenge.scheme).toMatch(/^[!#$%&'*+\-.^_`|~0-9a-z]+$/);
          } catch (error) {
            if (!TransportError.is(error) || error.code !== "HOIST_TRANSPORT_BAD_CHALLENGE")
              throw error;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("reads back any well-formed challenge list it is given", () => {
    const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,11}$/);
    const value = fc
      .string({ maxLength: 30 })
      .filter((s) => ![...s].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127));
    const challenge = fc.record({
      scheme: token,
      params: fc.uniqueArray(fc.tuple(token, value), {
        selector: ([k]) => k.toLowerCase(),
        maxLength: 5,
      }),
    });
    fc.assert(
      fc.property(
        fc.array(challenge, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(",", ", ", " ,  "),
        (list, sep) => {
          const header = list
            .map(
              (c) =>
                `${c.scheme}${c.params.length ? " " : ""}${c.params
                  .map(([k, v]) => `${k}="${v.replace(/["\\]/g, (m) => `\\${m}`)}"`)
                  .join(sep)}`,
            )
            .join(sep);
          const parsed = parseChallenges(header);
          expect(parsed).toEqual(
            list.map((c) => ({
              scheme: c.scheme.toLowerCase(),
              params: Object.fromEntries(c.params.map(([k, v]) => [k.toLowerCase(), v])),
            })),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("preferredChallenge and challengeScopes", () => {
  it("prefers bearer or basic over other schemes", () => {
    const list = parseChallenges('Negotiate, Bearer realm="r", Basic realm="b"');
    expect(preferredChallenge(list)?.scheme).toBe("bearer");
    expect(preferredChallenge(parseChallenges("Negotiate, NTLM"))?.scheme).toBe("negotiate");
    expect(preferredChallenge([])).toBeUndefined();
  });

  it("splits the scope parameter on spaces", () => {
    const [challenge] = parseChallenges(
      'Bearer realm="r",scope="repository:a:pull  repository:b:push"',
    );
    expect(challenge && challengeScopes(challenge)).toEqual([
      "repository:a:pull",
      "repository:b:push",
    ]);
  });
});
