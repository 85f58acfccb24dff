// `pnpm --filter @hoist/bench bench:name`: the @hoist/name section of `pnpm bench` on its own.
import { formatNameBench, runNameBench } from "./name-bench.js";

console.log(formatNameBench(runNameBench()));
