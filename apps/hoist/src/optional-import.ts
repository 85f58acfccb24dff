// Imports an optional peer package (a cloud keychain plugin) by name. The executable runs the
// CLI as one CommonJS bundle compiled through a code cache (see bin.ts), where an `import()`
// would need Node's experimental vm loader: build.mjs swaps this module there for one that asks
// the executable's own ES module to do the import.

/** `import(specifier)`, typed by the caller. */
export function importOptional<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}
