import type { Readable, Writable } from "node:stream";

/** Where a command reads and writes; `run()` takes these so tests and embedders can capture. */
export interface Io {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  env: Readonly<Record<string, string | undefined>>;
}

/** Writes text or bytes and waits for the stream to accept them (backpressure on pipes). */
export function write(stream: Writable, chunk: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(chunk, (error) => {
      if (error) reject(error);
    });
    if (ok) resolve();
    else stream.once("drain", resolve);
  });
}

/** Whether a stream is an interactive terminal (progress bars are drawn only there). */
export function isTTY(stream: Writable): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}
