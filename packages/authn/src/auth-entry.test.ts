import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeAuthField,
  encodeAuthField,
  entryCredential,
  helperCredential,
} from "./auth-entry.js";
import { keyHost, normalizedKeyHost, registryAuthKey } from "./server-address.js";

describe("auth field", () => {
  it("round-trips any username without a colon and any password", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => !s.includes(":")),
        fc.string().filter((s) => !s.endsWith("\0")),
        (username, password) => {
          expect(decodeAuthField(encodeAuthField(username, password))).toEqual({
            username,
            password,
          });
        },
      ),
    );
  });

  it("accepts unpadded base64 and strips trailing NULs", () => {
    expect(decodeAuthField("dTpw")).toEqual({ username: "u", password: "p" });
    expect(decodeAuthField(Buffer.from("ab:cd").toString("base64").replace(/=+$/, ""))).toEqual({
      username: "ab",
      password: "cd",
    });
    expect(decodeAuthField(Buffer.from("u:p\0\0").toString("base64"))).toEqual({
      username: "u",
      password: "p",
    });
  });

  it.each(["not base64!", "dQ==", Buffer.from(":p").toString("base64"), "a"])(
    "rejects %j",
    (value) => {
      expect(decodeAuthField(value)).toBeUndefined();
    },
  );

  it("never throws on arbitrary input", () => {
    fc.assert(fc.property(fc.string(), (value) => void decodeAuthField(value)));
  });
});

describe("entry and helper credentials", () => {
  it("prefers registry token, then identity token, then basic", () => {
    expect(
      entryCredential({ registrytoken: "r", identitytoken: "i", username: "u", password: "p" }),
    ).toEqual({
      kind: "registry-token",
      token: "r",
    });
    expect(entryCredential({ identitytoken: "i", username: "u", password: "p" })).toEqual({
      kind: "identity-token",
      token: "i",
      username: "u",
    });
    expect(entryCredential({ username: "u" })).toEqual({
      kind: "basic",
      username: "u",
      password: "",
    });
    expect(entryCredential({})).toBeUndefined();
  });

  it("reads <token> as an identity token", () => {
    expect(helperCredential("<token>", "rt")).toEqual({ kind: "identity-token", token: "rt" });
    expect(helperCredential("<token>", "")).toBeUndefined();
    expect(helperCredential("", "")).toBeUndefined();
    expect(helperCredential("u", "s")).toEqual({ kind: "basic", username: "u", password: "s" });
  });
});

describe("server addresses", () => {
  it.each([
    ["reg.example", "reg.example"],
    ["https://reg.example:5000/v2/", "reg.example:5000"],
    ["http://Reg.Example", "reg.example"],
    ["reg.example/ns/repo", "reg.example"],
    ["[::1]:5000", "[::1]:5000"],
  ])("keyHost(%j) is %j", (key, host) => {
    expect(keyHost(key)).toBe(host);
  });

  it.each([
    ["docker.io", "https://index.docker.io/v1/"],
    ["registry-1.docker.io", "https://index.docker.io/v1/"],
    ["https://index.docker.io/v1/", "https://index.docker.io/v1/"],
    ["ghcr.io", "ghcr.io"],
  ])("registryAuthKey(%j) is %j", (server, key) => {
    expect(registryAuthKey(server)).toBe(key);
    expect(normalizedKeyHost(key)).toBe(normalizedKeyHost(server));
  });

  it("maps any key to a host without scheme or path", () => {
    fc.assert(
      fc.property(fc.webUrl(), (url) => {
        const host = keyHost(url);
        expect(host).not.toContain("/");
        expect(host).toBe(new URL(url).host.toLowerCase());
      }),
    );
  });
});
