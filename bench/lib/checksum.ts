/**
 * An order-independent checksum of numeric records: their count and the wrapping 32-bit sum of
 * their low 32 bits. Exact for any integer below 2^53, cheap enough for a hot loop.
 */
export class Checksum {
  count = 0;
  acc = 0;

  /** Folds one record in. */
  add(value: number): void {
    this.count++;
    this.acc = (this.acc + (value | 0)) | 0;
  }

  /** `count:sum` as a string, comparable across peers. */
  get value(): string {
    return `${this.count}:${this.acc >>> 0}`;
  }
}
