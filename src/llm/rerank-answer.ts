/**
 * The passage order an LLM answered, as 0-based indexes of `count` passages: every passage
 * number the answer names (1 to count, first mention wins; `[2]`, `2`, `Passage 2` all count,
 * decimals such as scores do not), then the passages it did not name, in their original order.
 * Undefined when the answer names no passage at all.
 */
export function parseRanking(answer: string, count: number): number[] | undefined {
  const named: number[] = [];
  const seen = new Set<number>();
  for (const match of answer.matchAll(/(?<![\d.])\d+(?!\.?\d)/g)) {
    const index = Number(match[0]) - 1;
    if (index >= 0 && index < count && !seen.has(index)) {
      seen.add(index);
      named.push(index);
    }
  }
  if (named.length === 0) return undefined;
  for (let i = 0; i < count; i++) if (!seen.has(i)) named.push(i);
  return named;
}
