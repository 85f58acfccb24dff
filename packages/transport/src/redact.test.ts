import { describe, expect, it } from "vitest";
import { isSecretHeader, redactHeaders, redactHeaderValue, redactUrl } from "./redact.js";

describe("redactUrl", () => {
  it.each([
    [
      "keeps allow-listed query keys",
      "https://r.io/v2/a/blobs/uploads/?mount=sha256:1&from=b",
      "https://r.io/v2/a/blobs/uploads/?mount=sha256%3A1&from=b",
    ],
    [
      "hides presigned signatures",
      "https://bucket.s3.amazonaws.com/blob?X-Amz-Signature=abc&X-Amz-Credential=AKIA&digest=sha256:1",
      "https://bucket.s3.amazonaws.com/blob?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&digest=sha256%3A1",
    ],
    [
      "hides upload state",
      "http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=secret",
      "http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=REDACTED",
    ],
    ["drops user info and fragments", "https://user:pw@r.io/v2/#frag", "https://r.io/v2/"],
    [
      "keeps token scopes readable",
      "https://auth.io/token?scope=repository:a:pull&service=r&account=me",
      "https://auth.io/token?scope=repository%3Aa%3Apull&service=r&account=REDACTED",
    ],
    ["cuts the query of something that is not a URL", "not a url?token=abc", "not a url?REDACTED"],
  ])("%s", (_name, input, expected) => {
    expect(redactUrl(input)).toBe(expected);
    expect(redactUrl(input)).not.toMatch(/abc|AKIA|secret|pw@/);
  });

  it("accepts URL objects", () => {
    expect(redactUrl(new URL("https://r.io/x?sig=1"))).toBe("https://r.io/x?sig=REDACTED");
  });
});

describe("header redaction", () => {
  it("hides credentials but keeps the auth scheme", () => {
    expect(redactHeaderValue("Authorization", "Bearer eyJhbGciOi.x.y")).toBe("Bearer <redacted>");
    expect(redactHeaderValue("authorization", "Basic dTpw")).toBe("Basic <redacted>");
    expect(redactHeaderValue("proxy-authorization", "Digest abc")).toBe("<redacted>");
    expect(redactHeaderValue("X-Amz-Security-Token", "abc")).toBe("<redacted>");
    expect(redactHeaderValue("set-cookie", "session=abc")).toBe("<redacted>");
    expect(redactHeaderValue("location", "https://s3/b?X-Amz-Signature=abc")).toBe(
      "https://s3/b?X-Amz-Signature=REDACTED",
    );
    expect(redactHeaderValue("content-type", "application/json")).toBe("application/json");
  });

  it("treats any header naming a token, secret or signature as secret", () => {
    for (const name of [
      "x-auth-token",
      "X-Registry-Secret",
      "x-goog-signature",
      "x-api-key",
      "x-credential",
    ]) {
      expect(isSecretHeader(name)).toBe(true);
    }
    expect(isSecretHeader("accept")).toBe(false);
  });

  it("redacts whole header sets", () => {
    expect(redactHeaders({ Authorization: "Bearer t", Accept: "*/*" })).toEqual({
      authorization: "Bearer <redacted>",
      accept: "*/*",
    });
    expect(redactHeaders(new Headers({ cookie: "a=b" }).entries())).toEqual({
      cookie: "<redacted>",
    });
  });
});
