// The path-manager framework as a process of its own (built library from dist/), for the comparison
// with the C floor (cupm.c): one join per connection from LOCAL (id 2), like cupm. Prints `ready`;
// on SIGUSR2 runs a full garbage collection (when --expose-gc) and prints `gc`; on SIGTERM prints the
// framework's stats as JSON and exits. Usage: node [--expose-gc] upm-child.mjs LOCAL_IPV4 MAX_SECONDS
import { UserspacePathManager } from '../../dist/src/upm/manager.js';
import { subflowPerAddress } from '../../dist/src/upm/policies/subflow-per-address.js';

if (process.env.UPM_TRACE) await import(process.env.UPM_TRACE);
const [local, maxSeconds] = process.argv.slice(2);
const upm = await UserspacePathManager.start({ policy: subflowPerAddress({ addresses: [{ address: local, id: 2 }] }) });
let errors = 0;
upm.on('error', () => void errors++);
const bound = setTimeout(() => void stop(), Number(maxSeconds) * 1000);
async function stop() {
  clearTimeout(bound);
  await upm.stop();
  process.stdout.write(`${JSON.stringify({ stats: upm.stats, errors })}\n`);
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  process.stdout.write(`gc ${JSON.stringify(process.memoryUsage())}\n`);
});
process.stdout.write(`ready ${JSON.stringify(process.memoryUsage())}\n`);
