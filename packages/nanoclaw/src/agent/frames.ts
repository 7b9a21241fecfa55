/**
 * The frame a run's stdout carries is defined once, by the agent package (`@boilerhouse/nanoclaw-agent/frames`).
 * This name is left only for bench/nanoclaw.ts, which imports it from here: delete it once the bench
 * imports `ParsedOutput` from there.
 */
export type { ParsedOutput as AgentOutput } from '@boilerhouse/nanoclaw-agent/frames';
