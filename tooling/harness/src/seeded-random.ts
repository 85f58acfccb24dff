/**
 * A small seeded pseudo-random generator (mulberry32): the same seed gives the same sequence of
 * numbers in [0, 1) on every platform, which is what makes fault schedules and generated inputs
 * reproducible. Not for anything secret. (`@hoist/registry` keeps its own copy: a published
 * package cannot import the harness.)
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
