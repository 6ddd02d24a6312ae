#!/usr/bin/env bash
# `make image`: the desktop cloud's base image (docs/desktop-cloud.md), built with Debian's own tools
# only: debootstrap bookworm from this machine's Debian mirror into a directory, mkfs.ext4 -d to turn
# that directory into a filesystem without mounting anything, qemu-img to make it a qcow2. The kernel
# and initrd are copied out beside it: QEMU boots them with -kernel/-initrd, so the image needs no
# boot loader and no partition table (root=/dev/vda).
#
# Idempotent: when the image, kernel and initrd are there it does nothing (FORCE=1 rebuilds).
# Writes into $PORTAL_IMAGE_DIR (default var/images): debian-12-context.{qcow2,vmlinuz,initrd}.
set -euo pipefail
source "$(dirname "$0")/common.sh"

IMAGES=${PORTAL_IMAGE_DIR:-$VAR/images}
NAME=debian-12-context
DISK_SIZE=${IMAGE_DISK_SIZE:-3G}

if [ -z "${FORCE:-}" ] && [ -s "$IMAGES/$NAME.qcow2" ] && [ -s "$IMAGES/$NAME.vmlinuz" ] && [ -s "$IMAGES/$NAME.initrd" ]; then
  say "The image is there: $IMAGES/$NAME.qcow2 (FORCE=1 rebuilds it)"
  exit 0
fi
apt_install debootstrap qemu-utils e2fsprogs

# The machine's configured Debian mirror: the first bookworm "main" source, deb822 or one-line.
mirror() {
  local file
  for file in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    case "$file" in
      *.sources)
        awk '/^URIs:/{uri=$2} /^Suites:/{if ($0 ~ / bookworm( |$)/ && uri !~ /security/) {print uri; exit}} /^$/{uri=""}' "$file"
        ;;
      *) awk '$1=="deb" && $3=="bookworm" && $2 !~ /security/ {print $2; exit}' "$file" ;;
    esac
  done | head -n 1
}
MIRROR=${DEBIAN_MIRROR:-$(mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

mkdir -p "$IMAGES"
WORK=$(mktemp -d "$IMAGES/.build.XXXXXX")
ROOTFS="$WORK/rootfs"
cleanup() {
  # debootstrap leaves /proc and /sys mounted in the chroot when it fails half-way.
  for mnt in proc sys dev/pts dev; do umount -l "$ROOTFS/$mnt" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# What the portal's user-data and check-in use: cloud-init, an SSH server, curl, locales, sudo;
# ifupdown + a DHCP client for the networks cloud-init writes; ping and netcat to test the cluster
# network; the kernel (its initrd carries virtio drivers, initramfs-tools' MODULES=most).
PACKAGES=systemd-sysv,udev,kmod,ifupdown,isc-dhcp-client,iproute2,iputils-ping,netcat-openbsd,
PACKAGES+=linux-image-amd64,initramfs-tools,cloud-init,openssh-server,curl,ca-certificates,
PACKAGES+=locales,sudo,gnupg,procps,less,python3-yaml,
# debootstrap does not resolve virtual packages: python3-cryptography needs the cffi backend named.
PACKAGES+=python3-cffi-backend
say "debootstrap bookworm from $MIRROR (a few minutes)"
started=$(date +%s)
debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
  tail -n 10 "$WORK/debootstrap.log" >&2
  # dpkg's own words (a package that would not configure) are in the target's log.
  tail -n 20 "$ROOTFS/debootstrap/debootstrap.log" >&2 2>/dev/null || true
  echo "debootstrap failed (its last lines above)" >&2
  exit 1
}

# The guest's own configuration: one root filesystem on the whole disk, the NoCloud seed only.
echo "/dev/vda / ext4 defaults,errors=remount-ro 0 1" >"$ROOTFS/etc/fstab"
echo "debian" >"$ROOTFS/etc/hostname"
printf 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n' >"$ROOTFS/etc/network/interfaces"
echo "deb $MIRROR bookworm main" >"$ROOTFS/etc/apt/sources.list"
cat >"$ROOTFS/etc/cloud/cloud.cfg.d/90-desktop-cloud.cfg" <<'EOF'
# The desktop cloud hands its VMs a NoCloud seed (a volume labelled cidata); look nowhere else.
datasource_list: [NoCloud, None]
EOF
# Without cloud-init (kernel command line cloud-init=disabled) the seed's user-data runs as a shell
# script: how the portal's "shell" output boots on this image.
install -m 0755 "$ROOT/scripts/guest/nocloud-shell" "$ROOTFS/usr/local/sbin/nocloud-shell"
install -m 0644 "$ROOT/scripts/guest/nocloud-shell.service" "$ROOTFS/etc/systemd/system/nocloud-shell.service"
ln -sf /etc/systemd/system/nocloud-shell.service "$ROOTFS/etc/systemd/system/multi-user.target.wants/nocloud-shell.service"
# Boot faster: no timers that start apt or disk scrubbing in the first minutes of a short-lived VM.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
  ln -sf /dev/null "$ROOTFS/etc/systemd/system/$unit"
done
# A serial console: the boot log of each VM is its console file (docs/desktop-cloud.md).
chroot "$ROOTFS" systemctl enable serial-getty@ttyS0.service >/dev/null 2>&1 || true
chroot "$ROOTFS" apt-get clean

cp "$(readlink -f "$ROOTFS/vmlinuz")" "$WORK/$NAME.vmlinuz"
cp "$(readlink -f "$ROOTFS/initrd.img")" "$WORK/$NAME.initrd"
rm -f "$ROOTFS"/{vmlinuz,initrd.img}{,.old}

say "Making the filesystem and the qcow2 image"
mkfs.ext4 -q -F -L root -d "$ROOTFS" "$WORK/root.raw" "$DISK_SIZE"
qemu-img convert -O qcow2 "$WORK/root.raw" "$WORK/$NAME.qcow2"
mv "$WORK/$NAME.vmlinuz" "$WORK/$NAME.initrd" "$IMAGES/"
mv "$WORK/$NAME.qcow2" "$IMAGES/"
say "Built $IMAGES/$NAME.qcow2 in $(($(date +%s) - started)) s"
