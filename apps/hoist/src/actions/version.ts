import type { Action } from "../program.js";
import { VERSION } from "../version.js";

/** `hoist version`: the package version, one line. */
export const version: Action = async (context) => {
  await context.out(`${VERSION}\n`);
};
