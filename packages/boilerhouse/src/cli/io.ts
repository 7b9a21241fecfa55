/** What the CLI reads from and writes to: the process's streams and environment, or a test's captures. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** The program's name as invoked (`bh` or `boilerhouse`, the default), for messages and help. */
  prog?: string;
  /** stderr is a terminal: progress lines are drawn only then. */
  errIsTty?: boolean;
  /** Ends `--follow` commands (Ctrl-C in a terminal; the test's own signal in tests). */
  signal?: AbortSignal;
}
