import { describe, expect, it } from "vitest";
import { CLIError } from "../../src/cli/cli-error.js";
import { collectEnv, parseEnvFile } from "../../src/cli/env-options.js";

describe("sage job submit --env / --env-file", () => {
  it("reads dotenv-style files: comments, export, quotes, escapes", () => {
    const text = `# a comment\n\nA=1\nexport B = two words # note\nC="x # y\\n\\"z\\""\nD='raw \\n'\nE=\nF="" # empty\n`;
    expect(parseEnvFile("f.env", text)).toEqual({ A: "1", B: "two words", C: 'x # y\n"z"', D: "raw \\n", E: "", F: "" });
  });

  it("names the file and line of a bad line", () => {
    const failure = (text: string) => {
      try {
        parseEnvFile("f.env", text);
      } catch (error) {
        expect(error).toBeInstanceOf(CLIError);
        return (error as Error).message;
      }
      return "no error";
    };
    expect(failure("A=1\njust words\n")).toBe("f.env:2: not an assignment (expected KEY=VALUE): just words");
    expect(failure('A="open\n')).toBe('f.env:1: the double quote is not closed (expected KEY=VALUE): A="open');
    expect(failure("1A=x\n")).toBe("f.env:1: '1A' is not a variable name (expected KEY=VALUE): 1A=x");
    expect(failure("A='x' y\n")).toBe("f.env:1: text after the closing quote (expected KEY=VALUE): A='x' y");
  });

  it("collects repeated --env pairs; the value may hold '='", () => {
    expect(collectEnv("B=c=d", collectEnv("A=1"))).toEqual([["A", "1"], ["B", "c=d"]]);
    expect(() => collectEnv("novalue")).toThrow("expected KEY=VALUE");
  });
});
