// Node's global `Headers` is part of its bundled fetch implementation, which Node loads on the
// first use: about 20 ms and 12 MiB of memory in a fresh process, paid by every CLI command for
// the headers of its first response. Responses only need a case-insensitive multimap, so the
// transport builds them with this class, which behaves like `Headers` for everything it offers.

const TOKEN = /^[!#$%&'*+\-.^`|~\w]+$/;
const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

function headerName(name: string): string {
  if (!TOKEN.test(name))
    throw new TypeError(`Headers: invalid header name ${JSON.stringify(name)}`);
  return name.toLowerCase();
}

function headerValue(value: string): string {
  const normalized = String(value).replace(HTTP_WHITESPACE, "");
  if (/[\0\r\n]/.test(normalized))
    throw new TypeError(`Headers: invalid value for a header: ${JSON.stringify(value)}`);
  return normalized;
}

/** @internal A `Headers` without the fetch machinery: same names, values, order and errors. */
export class ResponseHeaders implements Headers {
  readonly #values = new Map<string, string[]>();

  constructor(init?: Iterable<readonly [string, string]>) {
    if (init) for (const [name, value] of init) this.append(name, value);
  }

  /**
   * @internal Headers from fields a strict parser has already checked: names lower-case
   * tokens, values trimmed and free of CR, LF and NUL (parseResponseHead), so none is checked
   * again on every response.
   */
  static fromCheckedFields(fields: ReadonlyArray<readonly [string, string]>): ResponseHeaders {
    const headers = new ResponseHeaders();
    const values = headers.#values;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as readonly [string, string];
      const list = values.get(field[0]);
      if (list) list.push(field[1]);
      else values.set(field[0], [field[1]]);
    }
    return headers;
  }

  append(name: string, value: string): void {
    const key = headerName(name);
    const list = this.#values.get(key);
    if (list) list.push(headerValue(value));
    else this.#values.set(key, [headerValue(value)]);
  }

  delete(name: string): void {
    this.#values.delete(headerName(name));
  }

  get(name: string): string | null {
    return this.#values.get(headerName(name))?.join(", ") ?? null;
  }

  getSetCookie(): string[] {
    return [...(this.#values.get("set-cookie") ?? [])];
  }

  has(name: string): boolean {
    return this.#values.has(headerName(name));
  }

  set(name: string, value: string): void {
    this.#values.set(headerName(name), [headerValue(value)]);
  }

  forEach(
    callback: (value: string, key: string, parent: Headers) => void,
    thisArg?: unknown,
  ): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  // Sorted by name, values joined, Set-Cookie values kept apart: the order `Headers` iterates in.
  *#pairs(): Generator<[string, string]> {
    for (const key of [...this.#values.keys()].sort()) {
      const list = this.#values.get(key) as string[];
      if (key === "set-cookie") for (const value of list) yield [key, value];
      else yield [key, list.join(", ")];
    }
  }

  // Generators are the iterators `Headers` declares (its type names them SpecIterableIterator).
  entries(): ReturnType<Headers["entries"]> {
    return this.#pairs() as unknown as ReturnType<Headers["entries"]>;
  }

  keys(): ReturnType<Headers["keys"]> {
    const pairs = this.#pairs();
    return (function* () {
      for (const [key] of pairs) yield key;
    })() as unknown as ReturnType<Headers["keys"]>;
  }

  values(): ReturnType<Headers["values"]> {
    const pairs = this.#pairs();
    return (function* () {
      for (const [, value] of pairs) yield value;
    })() as unknown as ReturnType<Headers["values"]>;
  }

  [Symbol.iterator](): ReturnType<Headers["entries"]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "Headers";
  }
}
