# The pinned upstream release the series applies to (sourced by the scripts).
PIN_VERSION=10.2.2
PIN_FILE=qemu_10.2.2+ds.orig.tar.xz
PIN_SHA256=be05230fe47a6937cd29f28f562932c8125f9c93c2a82c625198f7a4aa601dfb
