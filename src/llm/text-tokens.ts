import tokenizer, { countTokens, decode, encode } from "gpt-tokenizer";

// gpt-tokenizer takes time quadratic in the length of one pre-tokenized piece: a 100 KB run of one
// character (a "-----" rule) blocks the thread for seconds, and a 200 MB one ends the process. A
// long text is counted in slices of at most this many characters, cut before a space where there is
// one (o200k starts a word's token with the space before it, so such a cut changes no token).
const SLICE_CHARS = 2048;

/** Tokens (o200k) of `text`, in time linear in its length; a cut inside a long run of non-space may count a token more. */
export function countTextTokens(text: string): number {
  if (text.length <= SLICE_CHARS) return countTokens(text);
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

// gpt-tokenizer's decode() (3.4 and 4.0) runs every call through one module-wide TextDecoder in
// stream mode and never flushes it: after a decode that ends inside a character, the next decode
// anywhere in the process starts with U+FFFD. Tokens are decoded here from their own bytes instead.
type TokenBytes = (token: number) => string | Uint8Array | undefined;
const core = (tokenizer as unknown as { bytePairEncodingCoreProcessor?: { tryDecodeToken?: TokenBytes } }).bytePairEncodingCoreProcessor;
const tokenValue: TokenBytes | undefined = core?.tryDecodeToken?.bind(core);
const utf8 = new TextEncoder();
const textDecoder = new TextDecoder();

/** Whether tokens are decoded from their own bytes (always, unless the tokenizer's internals changed). */
export const decodesByBytes = tokenValue !== undefined;

/** The UTF-8 bytes of one token. */
function bytesOf(token: number): Uint8Array {
  const value = tokenValue!(token);
  if (value === undefined) throw new RangeError(`token ${token} is not in the o200k vocabulary`);
  return typeof value === "string" ? utf8.encode(value) : value;
}

/** The text of `tokens`; a cut inside a character shows as U+FFFD in this text only. */
export function decodeTokens(tokens: readonly number[]): string {
  if (!decodesByBytes) return decode(tokens);
  const parts = tokens.map(bytesOf);
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return textDecoder.decode(bytes);
}

/**
 * The largest cut at most `at` (and above `floor`) that falls between two characters: token `at`
 * starts one (its first byte is no UTF-8 continuation byte). `at` itself when no such cut exists.
 */
export function characterCut(tokens: readonly number[], at: number, floor = 0): number {
  for (let cut = at; cut > floor; cut--) if (startsCharacter(tokens, cut)) return cut;
  return at;
}

/** Whether a cut before token `at` falls between two characters (the end counts as one). */
export function startsCharacter(tokens: readonly number[], at: number): boolean {
  return !decodesByBytes || at >= tokens.length || (bytesOf(tokens[at]!)[0]! & 0xc0) !== 0x80;
}
