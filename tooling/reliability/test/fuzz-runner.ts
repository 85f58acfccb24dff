import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { classifyError, type ErrorFamily, type Tally } from "../src/index.js";

/** One parser under fuzzing. */
export interface FuzzTarget<T> {
  /** Inputs to try. */
  input: fc.Arbitrary<T>;
  /** The error families the parser may throw (empty: it must never throw). */
  families: readonly ErrorFamily[];
  /** Parses one input. */
  parse: (input: T) => unknown;
  /** Checks a returned value; a string says what is wrong with it. */
  check?: (value: unknown, input: T) => string | undefined;
  /** Fixed, so a failure can be replayed; printed with it. */
  seed: number;
  runs: number;
}

type Verdict = { kind: "value" } | { kind: "typed"; code: string } | { kind: "bad"; why: string };

/** One input must settle within this; a parser that hangs on its input is a failure too. */
const INPUT_BOUND_MS = 10_000;

function bounded(work: unknown): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new HangError(`no answer within ${INPUT_BOUND_MS} ms`)),
      INPUT_BOUND_MS,
    );
  });
  return Promise.race([Promise.resolve(work), hang]).finally(() => clearTimeout(timer));
}

class HangError extends Error {}

async function judge<T>(target: FuzzTarget<T>, input: T): Promise<Verdict> {
  let value: unknown;
  try {
    value = await bounded(target.parse(input));
  } catch (error) {
    if (error instanceof HangError) return { kind: "bad", why: `hang: ${error.message}` };
    const classification = classifyError(error, target.families);
    if (classification.typed) return { kind: "typed", code: classification.code };
    return { kind: "bad", why: classification.reason };
  } finally {
    // A parser must never reach the prototypes through "__proto__" or "constructor" keys.
    const polluted = Object.keys(Object.prototype).concat(Object.keys(Array.prototype));
    if (polluted.length > 0) {
      for (const key of polluted) {
        delete (Object.prototype as Record<string, unknown>)[key];
        delete (Array.prototype as unknown as Record<string, unknown>)[key];
      }
      // biome-ignore lint/correctness/noUnsafeFinally: a polluted prototype outranks any result
      return { kind: "bad", why: `prototype polluted with ${polluted.join(", ")}` };
    }
  }
  const problem = target.check?.(value, input);
  return problem ? { kind: "bad", why: `wrong value: ${problem}` } : { kind: "value" };
}

let saved = 0;

/** A short form of an input for the report; a long one is saved whole to a file. */
function show(input: unknown): string {
  const text = fc.stringify(input);
  if (text.length <= 300) return text;
  const file = join(tmpdir(), `hoist-fuzz-input-${process.pid}-${++saved}.txt`);
  const whole =
    input instanceof Uint8Array ? `base64:${Buffer.from(input).toString("base64")}` : text;
  writeFileSync(file, whole);
  return `${text.slice(0, 300)}… (${text.length} chars, whole input in ${file})`;
}

const BATCH = 200;

/** The inputs, made a batch at a time: some are megabytes, and the full run makes 20,000. */
function* batches<T>(target: FuzzTarget<T>): Generator<T> {
  for (let made = 0, batch = 0; made < target.runs; made += BATCH, batch++) {
    const numRuns = Math.min(BATCH, target.runs - made);
    yield* fc.sample(target.input, { numRuns, seed: target.seed + batch * 7919 });
  }
}

/**
 * Feeds `runs` generated inputs to the parser and counts each answer in the tally: a value
 * ("verified"), the package's own error ("typed"), anything else ("untyped", or "corrupt" for
 * a value that fails its check). A failure is then shrunk by fast-check to a small input.
 */
export async function fuzz<T>(tally: Tally, target: FuzzTarget<T>): Promise<void> {
  let first: string | undefined;
  for (const input of batches(target)) {
    const started = performance.now();
    const verdict = await judge(target, input);
    const ms = performance.now() - started;
    if (verdict.kind === "value") tally.verified(ms);
    else if (verdict.kind === "typed") tally.typed(verdict.code, ms);
    else if (verdict.why.startsWith("wrong value")) {
      tally.verified(ms);
      tally.corrupt(`${verdict.why} for ${show(input)}`);
      first ??= verdict.why;
    } else {
      tally.untyped(`${verdict.why} for ${show(input)}`, ms);
      first ??= verdict.why;
    }
  }
  if (first === undefined) return;
  // Shrink to a small counterexample for the report.
  const shrunk = await fc.check(
    fc.asyncProperty(target.input, async (input) => (await judge(target, input)).kind !== "bad"),
    { numRuns: target.runs, seed: target.seed },
  );
  if (shrunk.failed && shrunk.counterexample) {
    const [input] = shrunk.counterexample;
    const verdict = await judge(target, input);
    throw new Error(
      `seed ${target.seed}: smallest failing input ${show(input)}: ${verdict.kind === "bad" ? verdict.why : first}`,
    );
  }
}
