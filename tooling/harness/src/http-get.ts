import { request } from "node:http";

export interface PlainResponse {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

/** A bare GET with node:http, for harness self-tests that must not depend on the code under test. */
export function plainGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = "";
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on("error", reject)
      .end();
  });
}
