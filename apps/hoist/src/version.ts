// The bundler replaces __HOIST_VERSION__ with the package version; running from source (tests
// of single modules) there is no build, and the version says so.
declare const __HOIST_VERSION__: string | undefined;

export const VERSION: string =
  typeof __HOIST_VERSION__ === "string" ? __HOIST_VERSION__ : "0.0.0-development";
