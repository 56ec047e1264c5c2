#!/bin/sh
# Kernel test tier, guest side: /init of the initramfs built by initramfs.ts (busybox sh). Loads the
# modules listed in /modules/order, mounts the host's root (read-only 9p), the checkout and the
# output share, runs the guest command from /etc/guest.env chrooted into the host root, powers off.

export PATH=/bin
/bin/busybox --install -s /bin
. /etc/guest.env

say() { echo "[guest] $*" > /dev/console; }
fail() {
  say "init failed: $*"
  echo "init: $*" > /out/init-failed 2>/dev/null
  poweroff -f
}

mkdir -p /proc /sys /dev /out /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say "kernel $(uname -r) up after $(cut -d' ' -f1 /proc/uptime) s"

while read -r ko; do
  insmod "/modules/$ko" || fail "insmod $ko"
done < /modules/order

p9="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o "$p9,cache=loose,ro" hostroot /newroot || fail "mount of the host root"
mount -t 9p -o "$p9" out /out || fail "mount of the output share"
for d in tmp run var; do mount -t tmpfs -o mode=1777 tmpfs "/newroot/$d" || fail "tmpfs on /$d"; done
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mkdir -p "/newroot$CHECKOUT" /newroot/run/kernel-out
mount -t 9p -o "$p9,cache=loose,ro" checkout "/newroot$CHECKOUT" || fail "mount of the checkout"
mount --bind /out /newroot/run/kernel-out
ip link set lo up
uname -r > /out/release

say "running the tier after $(cut -d' ' -f1 /proc/uptime) s"
chroot /newroot /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/tmp TERM=dumb NO_COLOR=1 \
  CI=1 KERNEL_OUT=/run/kernel-out MPTCPPM_TIME_SCALE="$TIME_SCALE" GUEST_COMMAND="$GUEST_COMMAND" \
  /bin/sh -c "cd '$CHECKOUT' && exec /bin/sh scripts/kernels/guest.sh" < /dev/null > /dev/console 2>&1
echo "$?" > /out/status
say "done after $(cut -d' ' -f1 /proc/uptime) s"
sync
umount /newroot/run/kernel-out /out 2>/dev/null
poweroff -f
