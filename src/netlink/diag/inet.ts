// sock_diag layer: address bytes of inet_diag_sockid (network order, 16 bytes) as text.

import { AF_INET, bytesToIp, formatV6 } from '../../os/address.js';

/** `family` 2: the first 4 bytes as dotted quad; 10: RFC 5952 text (`::ffff:a.b.c.d` kept as the kernel has it). */
export function formatInetAddress(family: number, b: Uint8Array): string {
  return family === AF_INET ? bytesToIp(b.subarray(0, 4)) : formatV6(b);
}
