import { countTokens, encode } from "gpt-tokenizer";

// gpt-tokenizer takes time quadratic in the length of one pre-tokenized piece: a 100 KB run of one
// character (a "-----" rule) blocks the thread for seconds, and a 200 MB one ends the process. A
// long text is counted in slices of at most this many characters, cut before a space where there is
// one (o200k starts a word's token with the space before it, so such a cut changes no token).
const SLICE_CHARS = 2048;

/** Tokens (o200k) of `text`, in time linear in its length; a cut inside a long run of non-space may count a token more. */
export function countTextTokens(text: string): number {
  let total = 0;
  for (const slice of slicesOf(text)) total += countTokens(slice);
  return total;
}

/** The tokens (o200k) of `text`, in time linear in its length; they decode to `text` (a cut inside a long run of non-space may spell it with a token more). */
export function encodeText(text: string): number[] {
  if (text.length <= SLICE_CHARS) return encode(text);
  const tokens: number[] = [];
  for (const slice of slicesOf(text)) for (const token of encode(slice)) tokens.push(token);
  return tokens;
}

function* slicesOf(text: string): Generator<string> {
  for (let start = 0; start < text.length; ) {
    let end = Math.min(text.length, start + SLICE_CHARS);
    if (end < text.length) {
      const space = text.lastIndexOf(" ", end);
      if (space > start) end = space;
      // Never between the two halves of a surrogate pair.
      else if (isHighSurrogate(text.charCodeAt(end - 1))) end--;
    }
    yield text.slice(start, end);
    start = end;
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
