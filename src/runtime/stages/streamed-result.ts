/**
 * The result of one record whose function returned an async iterable (a token stream, say):
 * the ordered window hands its items downstream as they come once the record is at the head
 * of the window, instead of waiting for the iterable to end.
 */
export class StreamedResult {
  constructor(
    readonly iterable: AsyncIterable<unknown>,
    /** Records the function collected before it returned the iterable: they come first. */
    readonly first: unknown[],
  ) {}
}
