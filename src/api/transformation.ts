import type { OperatorOptions } from "./types.js";

/** Kinds of recorded transformations; `future` is a placeholder closed by `fillFuture`. */
export type TransformationKind =
  | "batch"
  | "source"
  | "map"
  | "filter"
  | "flatMap"
  | "keyBy"
  | "sink"
  | "coMap"
  | "join"
  | "future";

/**
 * One declared step of a pipeline, as the api layer records it. The graph layer compiles these
 * into plain data; the runtime finds the user function again through `id`.
 */
export interface Transformation {
  /** Position in the environment's pipeline; stable across re-evaluations of the same module. */
  readonly id: number;
  readonly kind: TransformationKind;
  /** Unique within the environment. */
  readonly name: string;
  /** The user's function, class, array of functions (coMap) or source object. */
  readonly fn: unknown;
  /** Upstream transformations; the position is the input index. */
  readonly inputs: Transformation[];
  readonly options: Readonly<OperatorOptions>;
  /** For `future`: the transformation that closed the loop. */
  filledBy?: Transformation;
}
