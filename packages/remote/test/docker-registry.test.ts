import { describe } from "vitest";
import { dockerRegistry } from "./registries.js";
import { sharedSuite } from "./shared-suite.js";

describe("shared suite against docker-registry (distribution 2.8.2)", () => {
  sharedSuite(dockerRegistry);
});
