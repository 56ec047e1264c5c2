// Built-in policies of the userspace path-manager framework, each a small file built on the public hooks.

export { subflowPerAddress, type SubflowPerAddressOptions } from './subflow-per-address.js';
export { announceAddresses, type AnnounceAddressesOptions } from './announce-addresses.js';
export { fullmesh, type FullmeshOptions } from './fullmesh.js';
export { kernelCompatible, wantedSubflows, KERNEL_COMPATIBLE_BACKOFF, type KernelCompatibleOptions, type ClosablePolicy } from './kernel-compatible.js';
