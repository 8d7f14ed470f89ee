/**
 * The passage order an LLM answered, as 0-based indexes of `count` passages: every passage
 * number the answer names (1 to count, first mention wins; `[2]`, `2`, `Passage 2` all count,
 * decimals such as scores and the markers of a numbered list do not), then the passages it did
 * not name, in their original order.
 * Undefined when the answer names no passage at all.
 */
export function parseRanking(answer: string, count: number): number[] | undefined {
  const named: number[] = [];
  const seen = new Set<number>();
  // "1. [3]" is list item 1 naming passage 3: a line's list marker is not a passage number.
  const unlisted = answer.replace(/^[ \t]*\d+[.)][ \t]+(?=[^\n]*\d)/gm, "");
  for (const match of unlisted.matchAll(/(?<![\d.])\d+(?!\.?\d)/g)) {
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
