#!/usr/bin/env bash
# Completes the guest's root tree (the .debs are already unpacked into WORKDIR/rootfs and the
# busybox applets linked, by build.sh) with the files in guest/, the accounts and the keys, and
# writes it into an ext4 image with `mke2fs -d` (no mount, loop device or chroot). mke2fs copies
# the owners of the files, so this runs as root or under fakeroot (build.sh decides).
# Usage: make-rootfs.sh WORKDIR   (reads WORKDIR/rootfs, WORKDIR/keys; writes WORKDIR/rootfs.raw)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$1
root="$work/rootfs"

rm -rf "$root"/usr/share/{doc,man,info,locale,lintian,bug} "$root"/lib/systemd "$root"/etc/init.d "$root"/lib/udev
# iconv modules (8 MiB): nothing in the guest converts charsets.
rm -rf "$root"/usr/lib/x86_64-linux-gnu/gconv

mkdir -p "$root"/{proc,sys,dev,run,tmp,root,mnt,var/log,var/lib,etc/init.d,etc/dropbear,etc/qemu/fsfreeze-hook.d}
ln -sfn /run "$root/var/run"
chmod 1777 "$root/tmp"
chmod 700 "$root/root"

install -m 0755 "$here/guest/rcS" "$root/etc/init.d/rcS"
install -m 0644 "$here/guest/inittab" "$root/etc/inittab"
rm -f "$root/sbin/shutdown"
install -m 0755 "$here/guest/shutdown" "$root/sbin/shutdown"
install -m 0755 "$here/guest/fsfreeze-hook.d/10-app" "$root/etc/qemu/fsfreeze-hook.d/10-app"
test -x "$root/etc/qemu/fsfreeze-hook"

echo guestvm >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tguestvm\n' >"$root/etc/hosts"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n' >"$root/etc/group"
echo 'root:*:19000:0:99999:7:::' >"$root/etc/shadow"
chmod 600 "$root/etc/shadow"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
echo /bin/sh >"$root/etc/shells"
cp "$work/keys/guestvm-id" "$root/etc/guestvm-id"

# dropbear refuses keys in a group- or world-writable .ssh or one not owned by the user.
mkdir -p "$root/root/.ssh"
chmod 700 "$root/root/.ssh"
install -m 0600 "$work/keys/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
install -m 0600 "$work/keys/dropbear_ed25519_host_key" "$root/etc/dropbear/dropbear_ed25519_host_key"

chown -R 0:0 "$root"
# Inode tables and journal written now: the guest's ext4lazyinit would otherwise write them in
# the background of every boot. Zeros cost nothing in the qcow2.
rm -f "$work/rootfs.raw"
truncate -s 64M "$work/rootfs.raw"
mke2fs -q -F -t ext4 -L guestvm -N 4096 -E lazy_itable_init=0,lazy_journal_init=0 -d "$root" "$work/rootfs.raw"
