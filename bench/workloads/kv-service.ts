/** W3's key-value service, kept apart so that only W3 children load SAGE through it. */
import { BaseService } from "../../src/index.js";

/** The key-value service: sync get/put over a Map. Peers construct it directly. */
export class KvService extends BaseService {
  readonly #map = new Map<number, number>();

  /** The value of `key`, if any. */
  get(key: number): number | undefined {
    return this.#map.get(key);
  }

  /** Sets `key` to `value`. */
  put(key: number, value: number): void {
    this.#map.set(key, value);
  }
}
