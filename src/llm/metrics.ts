import { encode } from "gpt-tokenizer";

// SQuAD-style normalization: lower case, no punctuation, no articles, single spaces.
function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .split(/\s+/)
    .filter((w) => w !== "" && w !== "a" && w !== "an" && w !== "the");
}

const asList = (references: string | readonly string[]): readonly string[] => (typeof references === "string" ? [references] : references);

/** 1 when the answer equals one of the references after normalization (case, punctuation, articles), else 0. */
export function exactMatch(answer: string, references: string | readonly string[]): number {
  const normalized = words(answer).join(" ");
  return asList(references).some((ref) => words(ref).join(" ") === normalized) ? 1 : 0;
}

function overlap(a: string[], b: string[]): number {
  const counts = new Map<string, number>();
  for (const w of b) counts.set(w, (counts.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of a) {
    const left = counts.get(w) ?? 0;
    if (left > 0) {
      common++;
      counts.set(w, left - 1);
    }
  }
  return common;
}

/** Word-level F1 of the answer against the best-matching reference (SQuAD's metric), from 0 to 1. */
export function f1Score(answer: string, references: string | readonly string[]): number {
  const predicted = words(answer);
  let best = 0;
  for (const ref of asList(references)) {
    const expected = words(ref);
    if (predicted.length === 0 || expected.length === 0) {
      best = Math.max(best, predicted.length === expected.length ? 1 : 0);
      continue;
    }
    const common = overlap(predicted, expected);
    if (common === 0) continue;
    const precision = common / predicted.length;
    const recall = common / expected.length;
    best = Math.max(best, (2 * precision * recall) / (precision + recall));
  }
  return best;
}

/** The share of the reference's words the answer contains (best reference), from 0 to 1. */
export function recallScore(answer: string, references: string | readonly string[]): number {
  const predicted = words(answer);
  let best = 0;
  for (const ref of asList(references)) {
    const expected = words(ref);
    best = Math.max(best, expected.length === 0 ? 1 : overlap(expected, predicted) / expected.length);
  }
  return best;
}

/** ROUGE-L F-measure: the longest common subsequence of words, against the best reference, from 0 to 1. */
export function rougeL(answer: string, references: string | readonly string[]): number {
  const predicted = words(answer);
  let best = 0;
  for (const ref of asList(references)) {
    const expected = words(ref);
    if (predicted.length === 0 || expected.length === 0) continue;
    let previous = new Array<number>(expected.length + 1).fill(0);
    for (const p of predicted) {
      const row = new Array<number>(expected.length + 1).fill(0);
      for (let j = 1; j <= expected.length; j++) row[j] = p === expected[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, row[j - 1]!);
      previous = row;
    }
    const lcs = previous[expected.length]!;
    if (lcs === 0) continue;
    const precision = lcs / predicted.length;
    const recall = lcs / expected.length;
    best = Math.max(best, (2 * precision * recall) / (precision + recall));
  }
  return best;
}

/** The number of tokens of a text for GPT-4o-class models (the o200k tokenizer). */
export function tokenCount(text: string): number {
  return encode(text).length;
}
