/** The figures a result table shows for one series of timed runs. */
export interface Summary {
  /** How many runs the figures are computed from. */
  count: number;
  median: number;
  min: number;
  max: number;
}

/** The median of the values: the middle one, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median() needs at least one value");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle] as number;
  return ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError("summarize() needs at least one value");
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { count: values.length, median: median(values), min, max };
}

/**
 * The ratio of two medians, or undefined when either side is missing. A zero denominator
 * has no meaningful ratio either.
 */
export function ratio(numerator: number | undefined, denominator: number | undefined) {
  if (numerator === undefined || denominator === undefined || denominator === 0) return undefined;
  return numerator / denominator;
}

/**
 * The order the tools run in for round `round`: each round starts one tool later, so no tool
 * always runs right after the same other one (caches and the registry's state even out).
 */
export function rotation<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
