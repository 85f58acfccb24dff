import { request } from "node:http";

function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

export interface WaitForHttpOptions {
  timeoutMs?: number;
  /** Stops waiting early, for example when the server process has exited. */
  gaveUp?: () => string | undefined;
}

/** Polls a URL until it answers with any HTTP status. Returns that status. */
export async function waitForHttp(url: string, options: WaitForHttpOptions = {}): Promise<number> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const status = await probe(url);
    if (status !== undefined) return status;
    const reason = options.gaveUp?.();
    if (reason) throw new Error(`${url} never answered: ${reason}`);
    if (Date.now() > deadline)
      throw new Error(`${url} did not answer within ${options.timeoutMs ?? 15_000} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
