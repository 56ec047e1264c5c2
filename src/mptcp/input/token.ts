// Domain vocabulary: a connection token as text, the way `ip mptcp monitor` prints it and the
// commands read it back.

/** A u32 connection token as 8 lower-case hex digits (`0x1a2b` → `00001a2b`). */
export function formatToken(token: number): string {
  return (token >>> 0).toString(16).padStart(8, '0');
}
