// Userspace path-manager framework: its own typed errors.

/** The namespace gives new connections the in-kernel path manager, so a userspace one would manage nothing. */
export class PathManagerModeError extends Error {
  override readonly name = 'PathManagerModeError';
  /** What to do about it. */
  readonly fix: string;

  /** `switchHint`: how the caller asks for the switch (the option of the library; the command says `--switch`). */
  constructor(readonly netns: string | undefined, readonly current: string, switchHint = 'pass switchPathManager: true') {
    const where = netns === undefined ? 'this namespace' : `namespace ${netns}`;
    const fix = `run "mptcp-pm${netns === undefined ? '' : ` -n ${netns}`} path-manager userspace" first, or ${switchHint}`;
    super(`${where} uses the ${current} path manager (net.mptcp.path_manager): ${fix}`);
    this.fix = fix;
  }
}
