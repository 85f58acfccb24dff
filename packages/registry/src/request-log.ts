import type { RouteKind } from "./routes.js";

/** One request as the registry saw it, for assertions such as "a mount happened". */
export interface RequestRecord {
  method: string;
  /** The path without the query, e.g. "/v2/app/blobs/uploads/". */
  path: string;
  /** The path with the query, as sent, e.g. "/v2/app/blobs/uploads/?mount=sha256:…&from=base". */
  url: string;
  route: RouteKind;
  repository?: string;
  /** The status sent, or 0 when the connection was cut before a status line went out. */
  status: number;
  /** The fault rule that fired, if any. */
  fault?: string;
  startedAt: Date;
  durationMs: number;
}

/** A bounded log: the oldest entries go once `capacity` is reached. */
export class RequestLog {
  readonly #capacity: number;
  #entries: RequestRecord[] = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(record: RequestRecord): void {
    this.#entries.push(record);
    if (this.#entries.length > this.#capacity)
      this.#entries.splice(0, this.#entries.length - this.#capacity);
  }

  list(): readonly RequestRecord[] {
    return [...this.#entries];
  }

  clear(): void {
    this.#entries = [];
  }
}
