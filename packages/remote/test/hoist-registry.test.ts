import { describe } from "vitest";
import { hoistRegistry } from "./registries.js";
import { sharedSuite } from "./shared-suite.js";

describe("shared suite against @hoist/registry", () => {
  sharedSuite(hoistRegistry);
});
