import { encode } from "gpt-tokenizer";

/** The words of a text as the answer metrics compare them (SQuAD style): lower case, no punctuation, no articles. */
export function normalizedWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .split(/\s+/)
    .filter((w) => w !== "" && w !== "a" && w !== "an" && w !== "the");
}

const asList = (references: string | readonly string[]): readonly string[] => (typeof references === "string" ? [references] : references);

/** 1 when the answer equals one of the references after normalization (case, punctuation, articles), else 0. */
export function exactMatch(answer: string, references: string | readonly string[]): number {
  const normalized = normalizedWords(answer).join(" ");
  return asList(references).some((ref) => normalizedWords(ref).join(" ") === normalized) ? 1 : 0;
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

// The best score of the answer's words against any reference's words.
function best(answer: string, references: string | readonly string[], score: (predicted: string[], expected: string[]) => number): number {
  const predicted = normalizedWords(answer);
  return Math.max(0, ...asList(references).map((ref) => score(predicted, normalizedWords(ref))));
}

// The F-measure of `common` shared items out of `predicted` and `expected` ones.
function fMeasure(common: number, predicted: number, expected: number): number {
  if (common === 0) return 0;
  const precision = common / predicted;
  const recall = common / expected;
  return (2 * precision * recall) / (precision + recall);
}

/** Word-level F1 of the answer against the best-matching reference (SQuAD's metric), from 0 to 1. */
export function f1Score(answer: string, references: string | readonly string[]): number {
  return best(answer, references, (predicted, expected) =>
    predicted.length === 0 || expected.length === 0 ? (predicted.length === expected.length ? 1 : 0) : fMeasure(overlap(predicted, expected), predicted.length, expected.length),
  );
}

/** The share of the reference's words the answer contains (best reference), from 0 to 1. */
export function recallScore(answer: string, references: string | readonly string[]): number {
  return best(answer, references, (predicted, expected) => (expected.length === 0 ? 1 : overlap(expected, predicted) / expected.length));
}

/** ROUGE-L F-measure: the longest common subsequence of words, against the best reference, from 0 to 1. */
export function rougeL(answer: string, references: string | readonly string[]): number {
  return best(answer, references, (predicted, expected) => {
    if (predicted.length === 0 || expected.length === 0) return 0;
    let previous = new Array<number>(expected.length + 1).fill(0);
    for (const p of predicted) {
      const row = new Array<number>(expected.length + 1).fill(0);
      for (let j = 1; j <= expected.length; j++) row[j] = p === expected[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, row[j - 1]!);
      previous = row;
    }
    return fMeasure(previous[expected.length]!, predicted.length, expected.length);
  });
}

/** The number of tokens of a text for GPT-4o-class models (the o200k tokenizer). */
export function tokenCount(text: string): number {
  return encode(text).length;
}
