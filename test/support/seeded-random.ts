/** A seeded generator (xorshift32), so a failing random case names a seed that rebuilds it. */
export function seededRandom(seed: number) {
  let state = Math.imul(seed, 0x9e3779b1) >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < 8; i++) next(); // past the seed's low-entropy start
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  /** Empty 30% of the time, else 1..max characters of `alphabet`. */
  const string = (max: number, alphabet: readonly string[]) =>
    next() < 0.3 ? "" : Array.from({ length: int(max) + 1 }, () => pick(alphabet)).join("");
  return { next, int, pick, string };
}
