// docker-registry's access log is Apache's combined format:
//   127.0.0.1 - - [date] "GET /v2/repo/blobs/sha256:... HTTP/1.1" 200 1048576 "" "skopeo/1.9.3"
// The byte count is the response body, so downloads are counted from it; uploads are not
// logged with a size, so a finished upload (`PUT ...?digest=` answered 201) counts the size
// of the blob it completed. A cross-repository mount (`POST ...?mount=` answered 201) moves
// nothing.
const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+|-)/;

export interface AccessRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
  bytes: number;
}

export function parseAccessLog(log: string): AccessRecord[] {
  const records: AccessRecord[] = [];
  for (const line of log.split("\n")) {
    // The registry's structured log lines also quote requests; access lines start with the client.
    if (line.startsWith("time=")) continue;
    const match = ACCESS_LINE.exec(line);
    if (!match) continue;
    const [, method, target, status, bytes] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    const url = new URL(target, "http://registry.invalid");
    records.push({
      method,
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      status: Number(status),
      bytes: bytes === "-" ? 0 : Number(bytes),
    });
  }
  return records;
}

/** The text between two marker requests (`GET /v2/?bench-mark=ID`) in a registry log. */
export function logBetweenMarks(log: string, startId: string, endId: string): string {
  const start = log.indexOf(`bench-mark=${startId}`);
  const end = log.indexOf(`bench-mark=${endId}`);
  if (start < 0 || end < 0 || end < start)
    throw new Error(`the registry log does not hold the marks ${startId} and ${endId}`);
  return log.slice(start, end);
}

/**
 * Layer bytes that crossed the wire in either direction, as the registry logged them: blob
 * downloads plus completed uploads of the given layers. Configs and manifests are not counted.
 */
export function layerBytesMoved(log: string, layers: ReadonlyMap<string, number>): number {
  let moved = 0;
  for (const record of parseAccessLog(log)) {
    if (record.method === "GET" && (record.status === 200 || record.status === 206)) {
      const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(record.path)?.[1];
      if (digest && layers.has(digest)) moved += record.bytes;
    }
    const completes =
      (record.method === "PUT" && record.status === 201) ||
      (record.method === "POST" && record.status === 201 && !record.query.has("mount"));
    if (completes && record.path.includes("/blobs/uploads")) {
      const size = layers.get(record.query.get("digest") ?? "");
      if (size !== undefined) moved += size;
    }
  }
  return moved;
}
