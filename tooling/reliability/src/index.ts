// The machinery of hoist's reliability suite: counting runs, classifying failures, finding
// secrets, counting resources and asking skopeo. The scenarios themselves are in test/.

export {
  type Classification,
  classifyError,
  ERROR_FAMILIES,
  type ErrorFamily,
  families,
} from "./classify.js";
export {
  type ResourceSnapshot,
  resourceGrowth,
  settledGrowth,
  snapshotResources,
} from "./resources.js";
export {
  formatCodes,
  formatTable,
  mergeResults,
  readResults,
  verdict,
} from "./results-table.js";
export {
  type Exposure,
  errorExposures,
  findLeaks,
  type Leak,
  lineExposures,
  type Secret,
  secretForms,
} from "./secrets.js";
export { CI_RUNS, FULL_RUNS, type SuiteSize, suiteSize } from "./suite-size.js";
export {
  type RunReport,
  type ScenarioResult,
  Tally,
  type TimedRunOptions,
  timedRun,
} from "./tally.js";
export { type TreeSnapshot, treeChanges, treeSnapshot } from "./tree-snapshot.js";
export { skopeoWitness, type Witness } from "./witness.js";
