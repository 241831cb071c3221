/** The doctor's exit codes; `--help` lists them (see cli.ts). */
export const exitCodes = {
  /** Everything checked is fine (warnings may have been printed). */
  ok: 0,
  /** A problem: the config would stop startup, the token is rejected, or no resolver signs the caller in. */
  problems: 1,
  /** Bad input to the command: unknown flag, unreadable file, a value that is not a JWT. */
  usage: 2,
  /** Cloudflare Access could not be reached: the team domain's certs are unreachable or have no usable keys. */
  unreachable: 3,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

export const exitCodesHelp = `Exit codes:
  0  everything checked is fine (warnings may have been printed)
  1  problems found: the config would stop the backend's startup, the token is
     rejected, or (with --resolve) no sign-in resolver signs the caller in
  2  bad input to the command: unknown flag, unreadable file, not a JWT
  3  Cloudflare Access could not be reached: the team domain's certs are
     unreachable or have no usable signing keys`;
