// sock_diag layer: address bytes of inet_diag_sockid (network order, 16 bytes) as text.

import { formatIPv6 } from '../core/inet.js';

/** `family` 2: the first 4 bytes as dotted quad; 10: RFC 5952 text (`::ffff:a.b.c.d` kept as the kernel has it). */
export function formatInetAddress(family: number, b: Uint8Array): string {
  return family === 2 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : formatIPv6(b);
}
