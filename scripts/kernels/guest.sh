#!/bin/sh
# Kernel test tier, guest side, run by init.sh inside the guest (host root, checkout as the working
# directory): runs the tier once with vitest, or the developer's KERNELS_GUEST_COMMAND instead.
# Writes into $KERNEL_OUT: report.json (vitest's JSON reporter) and features.json (probe.ts).

set -u
if [ -n "${GUEST_COMMAND:-}" ]; then
  exec /bin/sh -c "$GUEST_COMMAND"
fi
# The checkout is read-only here: `runner` loads the config without writing a bundled copy beside it.
exec node node_modules/vitest/vitest.mjs run --config vitest.kernels.config.ts --configLoader runner \
  --reporter=default --reporter=json --outputFile="$KERNEL_OUT/report.json"
