// Helpers for the JSON documents this package builds and hands out.

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * @internal A deep copy of a parsed document, so callers can change what they get without
 * touching cached state. Hash instances are immutable and shared.
 */
export function cloneDocument<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => cloneDocument(item)) as T;
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // defineProperty keeps a literal "__proto__" key as data instead of changing the prototype.
    Object.defineProperty(copy, key, {
      value: cloneDocument(value[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy as T;
}

/** @internal Compact UTF-8 JSON, the form hoist writes manifests and configs in. */
export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), "utf8");
}

/** @internal A copy of bytes, so callers cannot change cached raw documents. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}
