/** What the LLM bench's orchestrator and its peer processes share. */

/** Prefix of the line carrying the result on stdout. */
export const RESULT_MARKER = "@@llm-bench ";

/** What a peer's process reports. */
export interface PeerResult {
  peer: string;
  /** When the measured run began (ms since the epoch), to pick its requests out of the server's log. */
  startedAt: number;
  wallMs: number;
  /** User + system CPU of this process during the measured run. */
  cpuMs: number;
  requests: number;
  /** `count:fnv` of the answers in input order: equal for every peer. */
  checksum: string;
  /** Handles left open after dispose (should be none). */
  lingering: string[];
}

/** The prompts of a run: distinct, deterministic. */
export function promptsOf(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `Question ${i}: what is ${i} plus ${i}?`);
}
