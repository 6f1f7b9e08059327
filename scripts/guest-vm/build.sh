#!/usr/bin/env bash
# Builds the small Linux guest the tests boot under QEMU/TCG (docs: shared GUEST-VM.md, approach A):
#   vmlinux         Debian's kernel, the ELF cut out of its bzImage (PVH boot, no XZ under TCG)
#   initrd.cpio.gz  static busybox + the 17 virtio/ext4 modules (signatures stripped) + /init
#   rootfs.qcow2    64 MiB ext4 made by `mke2fs -d`: busybox, qemu-guest-agent, dropbear, the
#                   fsfreeze hook with the demo hook 10-app, the boot marker script
#   id_ed25519 (+.pub)  root's ssh key; known_hosts holds the guest's host key (dropbear_ed25519_host_key)
#                   under the alias `guestvm` and for [127.0.0.1]:any port
#   guestvm-id      the id the base image prints in its marker (GUESTVM-BOOT-OK id=...)
# Usage: build.sh [OUTDIR]   (default ${XDG_CACHE_HOME:-$HOME/.cache}/bulwark/guest-vm)
# Idempotent: an OUTDIR whose stamp matches this recipe is left alone. Everything comes from the
# Debian registry (apt-get download); no mount, loop device or chroot on the host.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/bulwark/guest-vm}
out=$(realpath -m "$out")

# The stamp names the recipe: any change to these files rebuilds the guest.
RECIPE_VERSION=1
recipe="guest-vm $RECIPE_VERSION $(cd "$here" && find . -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)"
is_complete() { [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$recipe" ]; }
if is_complete; then
  exit 0
fi

t0=${EPOCHREALTIME/,/.}
log() { echo "guest-vm: $(awk -v a="$t0" -v b="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%5.1f", b - a }') s: $*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }
export DEBIAN_FRONTEND=noninteractive

# --- one build at a time per OUTDIR (and one apt-get install); a second caller waits, then finds
# the stamp. flock is util-linux, essential on Debian.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
if is_complete; then
  exit 0
fi

# --- host tools: command -> Debian package
declare -A need=(
  [qemu-system-x86_64]=qemu-system-x86
  [qemu-img]=qemu-utils
  [xz]=xz-utils
  [mke2fs]=e2fsprogs
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
)
is_root || need[fakeroot]=fakeroot
missing=()
for cmd in "${!need[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/sbin/$cmd" ]; then
    missing+=("${need[$cmd]}")
  fi
done
apt_updated=0
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
}
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if is_root; then
    log "installing host packages: ${missing[*]}"
    apt_update
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "missing host packages: ${missing[*]}"
    log "run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
fi
export PATH="$PATH:/usr/sbin:/sbin"

work="$out.build"
mkdir -p "$work/debs" "$work/keys"
cd "$work"

# --- guest .debs (kept in $work/debs until the build succeeds, so a failed build resumes)
apt_download() {
  local opts=(-qq)
  # As root apt drops to _apt for downloads, which cannot write into root's cache dir.
  is_root && opts+=(-o APT::Sandbox::User=root)
  (cd "$work/debs" && apt-get "${opts[@]}" download "$@")
}
resolve() {
  # The kernel's ABI name (linux-image-6.1.0-NN-amd64) and the run-time closure of qemu-ga and
  # dropbear. Pre-Depends only pull in packaging tools (init-system-helpers), not libraries.
  kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
  mapfile -t user_pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances --no-pre-depends qemu-guest-agent dropbear-bin 2>/dev/null |
    grep -v -e '^ ' -e '^<' | sort -u)
  [ -n "$kernel_pkg" ] && [ ${#user_pkgs[@]} -gt 0 ]
}
if ! resolve; then
  if is_root; then
    apt_update
    resolve || { log "cannot resolve the guest packages from the apt lists"; exit 1; }
  else
    log "the apt lists lack the guest packages; run as root: apt-get update"
    exit 1
  fi
fi
pkgs=("$kernel_pkg" busybox-static "${user_pkgs[@]}")
wanted=()
for pkg in "${pkgs[@]}"; do
  compgen -G "$work/debs/${pkg}_*.deb" >/dev/null || wanted+=("$pkg")
done
if [ ${#wanted[@]} -gt 0 ]; then
  log "downloading ${#wanted[@]} .debs: ${wanted[*]}"
  if ! apt_download "${wanted[@]}"; then
    # Stale lists name versions the mirror no longer has (security updates replace kernels).
    is_root || { log "apt-get download failed; run as root: apt-get update"; exit 1; }
    apt_updated=0
    apt_update
    resolve
    pkgs=("$kernel_pkg" busybox-static "${user_pkgs[@]}")
    rm -f "$work"/debs/*.deb
    apt_download "${pkgs[@]}"
  fi
fi
kernel_deb=$(compgen -G "$work/debs/${kernel_pkg}_*.deb" | head -n1)
kver=${kernel_pkg#linux-image-}
initrd="$work/initrd"
root="$work/rootfs"

# --- kernel and modules, in the background: decompressing the kernel .deb is the longest step.
# Load order from depmod; virtio_ring must precede virtio, crc32c_generic precede ext4.
modules=(crc16 mbcache jbd2 crc32c_generic ext4 virtio_ring virtio virtio_mmio virtio_pci_modern_dev
  virtio_pci_legacy_dev virtio_pci virtio_blk virtio_console failover net_failover virtio_net virtio-rng)
strip_signature() {
  # An appended signature is: sig, struct module_signature (12 bytes, sig_len big-endian in the
  # last 4), then the 28-byte magic. Unsigned modules still load: no sig_enforce, no lockdown.
  local f=$1 size siglen
  [ "$(tail -c 28 "$f" | head -c 27)" = '~Module signature appended~' ] || return 0
  size=$(stat -c %s "$f")
  siglen=$(tail -c 32 "$f" | head -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
  truncate -s $((size - 40 - siglen)) "$f"
}
extract_kernel() {
  rm -rf "$work/kernel" "$initrd"
  mkdir -p "$work/kernel" "$initrd/lib/modules"
  local patterns=("./boot/vmlinuz-$kver" "./lib/modules/$kver/modules.builtin") mod src
  for mod in "${modules[@]}"; do patterns+=("./lib/modules/$kver/kernel/*/$mod.ko" "./lib/modules/$kver/kernel/*/$mod.ko.xz"); done
  # tar reports the patterns that match nothing (.ko vs .ko.xz, built-in modules): checked below.
  dpkg-deb --fsys-tarfile "$kernel_deb" | tar -x -C "$work/kernel" --wildcards "${patterns[@]}" 2>/dev/null || true
  local vmlinuz="$work/kernel/boot/vmlinuz-$kver"
  [ -f "$vmlinuz" ] || { log "no /boot/vmlinuz-$kver in $kernel_deb"; exit 1; }

  # The bzImage decompresses an XZ payload itself, 7-8 s under TCG. Cut the stream out at its
  # magic and decompress it here; the result is the ELF vmlinux that QEMU loads directly (PVH).
  local offset
  offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n1 | cut -d: -f1 || true)
  [ -n "$offset" ] || { log "no XZ stream in $vmlinuz"; exit 1; }
  xz -dc --single-stream < <(tail -c +$((offset + 1)) "$vmlinuz") >"$work/vmlinux"
  [ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || { log "the XZ payload of $vmlinuz is not an ELF"; exit 1; }

  : >"$initrd/lib/modules/order"
  for mod in "${modules[@]}"; do
    src=$(find "$work/kernel/lib/modules" \( -name "$mod.ko" -o -name "$mod.ko.xz" \) | head -n1)
    if [ -z "$src" ]; then
      if grep -q "/$mod.ko$" "$work/kernel/lib/modules/$kver/modules.builtin" 2>/dev/null; then continue; fi
      log "module $mod is neither in $kernel_deb nor built in"
      exit 1
    fi
    case "$src" in
    *.xz) xz -dc "$src" >"$initrd/lib/modules/$mod.ko" ;;
    *) cp "$src" "$initrd/lib/modules/$mod.ko" ;;
    esac
    strip_signature "$initrd/lib/modules/$mod.ko"
    echo "$mod" >>"$initrd/lib/modules/order"
  done
  log "vmlinux and modules ready"
}
log "kernel $kver"
extract_kernel &
kernel_job=$!
trap 'kill "$kernel_job" 2>/dev/null || true' EXIT

link_applets() {
  # ROOT BUSYBOX: a symlink to /bin/busybox for each applet, never over a file already there.
  local dir=$1 applets
  mapfile -t applets < <("$2" --list-full)
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin}
  if command -v perl >/dev/null 2>&1; then
    # One process instead of 400 ln forks (perl-base is essential on Debian).
    perl -e 'my $r = shift; for (@ARGV) { my $p = "$r/$_"; next if -e $p || -l $p; symlink("/bin/busybox", $p) or die "symlink $p: $!\n" }' "$dir" "${applets[@]}"
  else
    local a
    for a in "${applets[@]}"; do [ -e "$dir/$a" ] || [ -L "$dir/$a" ] || ln -s /bin/busybox "$dir/$a"; done
  fi
}

# --- the guest's userland: every .deb but the kernel, unpacked into the root tree
rm -rf "$root"
mkdir -p "$root"
find "$work/debs" -name '*.deb' ! -name 'linux-image-*' -print0 | xargs -0 -P 4 -I{} dpkg-deb -x {} "$root"
busybox="$root/bin/busybox"
link_applets "$root" "$busybox"

# --- keys: root's ssh key pair, dropbear's host key (made by the guest's own dropbearkey, run
# through the guest's loader) and its known_hosts line under the alias `guestvm`.
# A rebuild keeps the keys of the previous image, so VMs still running on it stay reachable.
# The known_hosts line also matches 127.0.0.1 on any port, for clients without HostKeyAlias.
keys="$work/keys"
rm -f "$keys"/*
guest_run() {
  "$root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
    --library-path "$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu" "$@"
}
if [ -f "$out/id_ed25519" ] && [ -f "$out/id_ed25519.pub" ] && [ -f "$out/dropbear_ed25519_host_key" ]; then
  cp "$out/id_ed25519" "$out/id_ed25519.pub" "$out/dropbear_ed25519_host_key" "$keys/"
else
  ssh-keygen -q -t ed25519 -N '' -C root@guestvm -f "$keys/id_ed25519"
  guest_run "$root/usr/bin/dropbearkey" -t ed25519 -f "$keys/dropbear_ed25519_host_key" >/dev/null 2>&1
fi
host_pub=$(guest_run "$root/usr/bin/dropbearkey" -y -f "$keys/dropbear_ed25519_host_key" 2>/dev/null | grep '^ssh-ed25519 ' | cut -d' ' -f1,2)
[ -n "$host_pub" ] || { log "dropbearkey gave no public host key"; exit 1; }
echo "guestvm,[127.0.0.1]:* $host_pub" >"$keys/known_hosts"
echo "base-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" >"$keys/guestvm-id"
# qemu-ga and dropbear are dynamic: every library they need must be in the image.
for bin in usr/sbin/qemu-ga usr/sbin/dropbear; do
  if ! libs=$(guest_run --list "$root/$bin") || grep -q 'not found' <<<"$libs"; then
    log "$bin misses libraries in the image: $libs"
    exit 1
  fi
done

# --- root filesystem (owners matter: as root directly, else under fakeroot)
if is_root; then
  bash "$here/make-rootfs.sh" "$work"
else
  fakeroot -- bash "$here/make-rootfs.sh" "$work"
fi
rm -f "$work/rootfs.qcow2"
qemu-img convert -q -f raw -O qcow2 "$work/rootfs.raw" "$work/rootfs.qcow2"
log "root filesystem ready"

# --- initramfs: static busybox, its applet links, the modules, /init
wait "$kernel_job"
trap - EXIT
mkdir -p "$initrd"/{proc,sys,dev,newroot}
mkdir -p "$initrd/bin"
cp "$busybox" "$initrd/bin/busybox"
link_applets "$initrd" "$busybox"
install -m 0755 "$here/guest/init" "$initrd/init"
(cd "$initrd" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null | gzip -6 >"$work/initrd.cpio.gz")

# --- publish: everything into a fresh dir, stamp last, then swap it in.
stage="$out.new"
rm -rf "$stage"
mkdir -p "$stage"
mv "$work/vmlinux" "$work/initrd.cpio.gz" "$work/rootfs.qcow2" "$stage/"
cp "$keys/id_ed25519" "$keys/id_ed25519.pub" "$keys/dropbear_ed25519_host_key" "$keys/known_hosts" "$keys/guestvm-id" "$stage/"
chmod 600 "$stage/id_ed25519" "$stage/dropbear_ed25519_host_key"
echo "$kver" >"$stage/kernel-release"
echo "$recipe" >"$stage/stamp"
rm -rf "$out"
mv "$stage" "$out"
cd /
rm -rf "$work"
log "built in $out"
