// @hoist/cli: the `hoist` command line. The package's bin is what most people use; this entry
// lets programs and tests run a command line in-process with their own streams.

export { CLI_ERROR_CODES, CliError, type CliErrorCode } from "./errors.js";
export { main } from "./main.js";
export { type RunOptions, run } from "./run.js";
export { VERSION } from "./version.js";
