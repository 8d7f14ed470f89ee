import { PipelineDefinitionError } from "./errors.js";
import { replySpecOf, serviceSourceOf } from "./pipeline-service.js";
import { isClass } from "./service.js";
import type { Transformation, TransformationKind } from "./transformation.js";

/** Rejects a function that cannot work for `kind`, at declaration time, with a message naming the fix. */
export function validateFunction(kind: TransformationKind, fn: unknown, inputs: readonly Transformation[], name: string): void {
  switch (kind) {
    case "future":
      return;
    case "batch":
    case "source":
      if (kind === "source" && serviceSourceOf(fn)) return; // fromService: the runtime reads the requests
      return validateSource(kind, fn, name);
    case "coMap":
      return validateCoMap(fn, inputs.length, name);
    case "join":
      validateCallable(fn, name, "execute", kind);
      for (const [i, input] of inputs.entries()) {
        if (input.kind !== "keyBy") {
          throw new PipelineDefinitionError(
            `join '${name}': input ${i} ('${input.name}') is not keyed; call keyBy on each stream (or connected.keyBy([...])) before join`,
          );
        }
      }
      return;
    default:
      if (replySpecOf(fn) && kind !== "sink") {
        throw new PipelineDefinitionError(`operator '${name}': replyTo('${replySpecOf(fn)!.service}') answers requests as a sink: use .sink(replyTo(...)), not .${kind}()`);
      }
      return validateCallable(fn, name, "execute", kind);
  }
}

function validateCallable(fn: unknown, name: string, method: string, kind?: TransformationKind): void {
  if (typeof fn !== "function") {
    throw new PipelineDefinitionError(`operator '${name}' needs a function or a function class, got ${describe(fn)}`);
  }
  if (isClass(fn) && typeof fn.prototype[method] !== "function") {
    throw new PipelineDefinitionError(`operator '${name}': class ${fn.name} has no ${method}() method`);
  }
  const base = isClass(fn) ? functionBase(fn) : undefined;
  const expected = kind && EXPECTED_BASE[kind];
  if (base && expected && base !== expected && !declaresKind(fn, kind)) {
    throw new PipelineDefinitionError(`operator '${name}': ${kind} needs a ${expected} class (or a plain function), but ${fn.name} is a ${base}`);
  }
}

// A class made for several operator kinds (a generator usable as map, or as flatMap when it
// streams) lists them in a static `operatorKinds`.
function declaresKind(fn: Function, kind: TransformationKind): boolean {
  const kinds = (fn as { operatorKinds?: unknown }).operatorKinds;
  return Array.isArray(kinds) && kinds.includes(kind);
}

const EXPECTED_BASE: Partial<Record<TransformationKind, string>> = {
  map: "MapFunction",
  filter: "FilterFunction",
  flatMap: "FlatMapFunction",
  keyBy: "KeyByFunction",
  sink: "SinkFunction",
  join: "JoinFunction",
  batch: "BatchFunction",
  source: "SourceFunction",
};
const BASES = new Set(Object.values(EXPECTED_BASE).concat("CoMapFunction"));

// Which SAGE function class `fn` extends, by name, so that copies of the package bundled into a
// job module are recognised too.
function functionBase(fn: Function): string | undefined {
  for (let proto = Object.getPrototypeOf(fn) as Function | null; proto && proto !== Function.prototype; proto = Object.getPrototypeOf(proto)) {
    if (BASES.has(proto.name)) return proto.name;
  }
  return undefined;
}

function validateSource(kind: "batch" | "source", fn: unknown, name: string): void {
  if (typeof fn === "function") {
    if (isClass(fn) && typeof fn.prototype.execute !== "function") {
      throw new PipelineDefinitionError(`source '${name}': class ${fn.name} has no execute() method`);
    }
    const base = isClass(fn) ? functionBase(fn) : undefined;
    if (base && base !== EXPECTED_BASE[kind]) {
      const hint = kind === "batch" ? "fromSource() takes a SourceFunction" : "fromBatch() takes a BatchFunction";
      throw new PipelineDefinitionError(`source '${name}': ${fn.name} is a ${base}, not a ${EXPECTED_BASE[kind]} (${hint})`);
    }
    return;
  }
  if (fn !== null && typeof fn === "object" && (Symbol.iterator in fn || Symbol.asyncIterator in fn)) return;
  const expected =
    kind === "batch"
      ? "an array, an iterable, an async iterable, a generator function or a BatchFunction class"
      : "a SourceFunction class, an async iterable, an iterable or a generator function";
  throw new PipelineDefinitionError(`source '${name}' needs ${expected}, got ${describe(fn)}`);
}

function validateCoMap(fn: unknown, inputCount: number, name: string): void {
  if (Array.isArray(fn)) {
    if (fn.length !== inputCount) {
      throw new PipelineDefinitionError(`coMap '${name}' got ${fn.length} functions for ${inputCount} connected inputs`);
    }
    fn.forEach((f, i) => {
      if (typeof f !== "function") throw new PipelineDefinitionError(`coMap '${name}': function ${i} is ${describe(f)}`);
    });
    return;
  }
  if (typeof fn !== "function" || !isClass(fn)) {
    throw new PipelineDefinitionError(`coMap '${name}' needs an array of functions (one per input) or a CoMapFunction class`);
  }
  for (let i = 0; i < inputCount; i++) {
    if (typeof fn.prototype[`map${i}`] !== "function") {
      throw new PipelineDefinitionError(`coMap '${name}': class ${fn.name} has no map${i}() for input ${i} of ${inputCount}`);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `an object (${value.constructor?.name ?? "Object"})` : typeof value;
}
