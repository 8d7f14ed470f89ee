import { characterCut, decodeTokens, encodeText, startsCharacter } from "./text-tokens.js";

/** How `chunkText` splits: by characters (default) or by tokens of the o200k tokenizer (GPT-4o's). */
export interface ChunkOptions {
  /** Largest chunk, in characters or tokens (default 1000 characters / 256 tokens). */
  size?: number;
  /** How much consecutive chunks share, in the same unit (default 0); less than `size`. */
  overlap?: number;
  /** `characters` (default) or `tokens`. */
  by?: "characters" | "tokens";
}

/**
 * Splits a text into chunks of at most `size` characters or tokens, consecutive chunks sharing
 * `overlap` of them, as RAG pipelines index documents. A character chunk ends at the last
 * whitespace inside it when there is one (words stay whole); a token chunk ends between two
 * characters (one spelled with several tokens, as many emoji are, stays whole).
 */
export function chunkText(text: string, options: ChunkOptions = {}): string[] {
  const by = options.by ?? "characters";
  const size = options.size ?? (by === "tokens" ? 256 : 1000);
  const overlap = options.overlap ?? 0;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunkText: size must be a whole number of at least 1, not ${size}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
    throw new RangeError(`chunkText: overlap must be a whole number from 0 to size - 1 (${size - 1}), not ${overlap}`);
  }
  if (by !== "characters" && by !== "tokens") throw new RangeError(`chunkText: by must be 'characters' or 'tokens', not '${String(by)}'`);
  if (text.length === 0) return [];
  return by === "tokens" ? byTokens(text, size, overlap) : byCharacters(text, size, overlap);
}

// A chunk ends, and an overlap starts, between two characters: a character the tokenizer spells
// with several tokens (many emoji, some CJK) is not cut in two.
function byTokens(text: string, size: number, overlap: number): string[] {
  const tokens = encodeText(text);
  const chunks: string[] = [];
  for (let start = 0; start < tokens.length; ) {
    const end = characterCut(tokens, Math.min(tokens.length, start + size), start);
    chunks.push(decodeTokens(tokens.slice(start, end)));
    if (end >= tokens.length) break;
    // The overlap's start, moved forward to a character's start; always past this chunk's start.
    let next = Math.max(start + 1, end - overlap);
    while (next < end && !startsCharacter(tokens, next)) next++;
    start = next;
  }
  return chunks;
}

function byCharacters(text: string, size: number, overlap: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    // A chunk starts at its first non-space character: spaces do not take its room.
    while (start < text.length && /\s/.test(text[start]!)) start++;
    if (start >= text.length) break;
    let end = Math.min(text.length, start + size);
    if (end < text.length) {
      // End at a word boundary when the chunk has one past its overlap (else cut mid-word).
      const space = text.lastIndexOf(" ", end);
      const boundary = Math.max(space, text.lastIndexOf("\n", end));
      if (boundary > start + overlap) end = boundary;
      else if (isLowSurrogate(text, end) && end - 1 > start) end--; // never cut a character in two
    }
    chunks.push(text.slice(start, end).trim());
    if (end >= text.length) break;
    // The overlap starts at a word too, when one starts inside it.
    let next = end - overlap;
    if (overlap > 0 && next > 0 && !/\s/.test(text[next - 1]!)) {
      // Only a word starting inside the overlap is shared; a part of one is not.
      const word = text.slice(next, end).search(/\s\S/);
      next = word >= 0 ? next + word + 1 : end;
    }
    if (isLowSurrogate(text, next)) next--;
    start = Math.max(next, start + (isLowSurrogate(text, start + 1) ? 2 : 1));
  }
  return chunks.filter((chunk) => chunk.length > 0);
}

// Whether the UTF-16 unit at `i` is the second half of a character outside the BMP (an emoji, say).
function isLowSurrogate(text: string, i: number): boolean {
  const unit = text.charCodeAt(i);
  return unit >= 0xdc00 && unit <= 0xdfff;
}
