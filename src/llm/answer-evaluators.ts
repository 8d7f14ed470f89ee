import { Evaluate, type EvaluateOptions } from "./evaluate.js";
import { exactMatch, f1Score, recallScore, rougeL } from "./metrics.js";
import { textField, textsField } from "./record-fields.js";

// The four compare the generated answer with the best-matching reference answer.
abstract class AnswerEvaluate extends Evaluate {
  protected get needs(): string {
    return `'${this.prediction}' (the answer) and '${this.references}' (reference answers)`;
  }

  protected answerAndReferences(record: object): [string, string[]] {
    return [textField(record, this.prediction), textsField(record, this.references)];
  }
}

/** Adds `exactMatch` (1 or 0: the answer equals a reference after normalization) to each record. */
export class ExactMatchEvaluate extends AnswerEvaluate {
  constructor(options: EvaluateOptions = {}) {
    super(options, { metric: "exactMatch" });
  }

  protected score(record: object): number {
    return exactMatch(...this.answerAndReferences(record));
  }
}

/** Adds `f1` (word-level F1 against the best reference, SQuAD style) to each record. */
export class F1Evaluate extends AnswerEvaluate {
  constructor(options: EvaluateOptions = {}) {
    super(options, { metric: "f1" });
  }

  protected score(record: object): number {
    return f1Score(...this.answerAndReferences(record));
  }
}

/** Adds `recall` (the share of the best reference's words the answer holds) to each record. */
export class RecallEvaluate extends AnswerEvaluate {
  constructor(options: EvaluateOptions = {}) {
    super(options, { metric: "recall" });
  }

  protected score(record: object): number {
    return recallScore(...this.answerAndReferences(record));
  }
}

/** Adds `rougeL` (the ROUGE-L F-measure against the best reference) to each record. */
export class RougeLEvaluate extends AnswerEvaluate {
  constructor(options: EvaluateOptions = {}) {
    super(options, { metric: "rougeL" });
  }

  protected score(record: object): number {
    return rougeL(...this.answerAndReferences(record));
  }
}
