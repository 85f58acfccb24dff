import { CliError } from "../errors.js";
import type { Action } from "../program.js";

// PENDING: needs @hoist/remote, @hoist/layout and @hoist/tarball (landing on main).
const pending =
  (name: string): Action =>
  async () => {
    throw new CliError(`${name} is not built yet`, {
      code: "HOIST_CLI_UNSUPPORTED",
      operation: name,
    });
  };

export const exportImage = pending("exportImage");
