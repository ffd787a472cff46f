# Zoned qcow2: a patch series over QEMU 10.2.2, and its tooling.
#
#   make            install deps, set up qemu/, build, run the demo
#   make check      the same set-up, then the test suite
#   make deps       install build/test dependencies from Debian (root)
#   make tree       create/refresh qemu/ (pristine + build fixes + series)
#   make build      configure and build qemu/build
#   make export     write qemu/ series-base..HEAD back into patches/
#   make status     does qemu/ hold work that patches/ does not have?
#   make demo       the demo on an existing build
#   make vm         boot a Linux guest with the demo image as /dev/vda
#                   (VM_IMAGE=PATH for another image; commands on stdin)
#   make install PREFIX=DIR   the patched programs and firmware into DIR
#   make bench      benchmarks (bench/results-*.md): host, then guest
#                   (QUICK=1: a short run that checks the scripts and the
#                   format of the results, not a measurement)
#   make bench-host   the host part only (qemu-img bench, large images,
#                   zone operations; root)
#   make bench-guest  the guest part only (fio in a Linux guest; QUICK=1)
#   make clean      remove qemu/build and the caches (keeps qemu/)
#   make distclean  also remove qemu/ (refuses when it has unexported work)

SHELL := /bin/bash
.DEFAULT_GOAL := all
.PHONY: all deps tree build demo check vm install bench bench-host bench-guest export status clean distclean

all: build
	scripts/demo.sh

deps:
	scripts/deps.sh

tree: deps
	scripts/tree.sh

build: tree
	scripts/build.sh

demo:
	scripts/demo.sh

check: build
	scripts/check.sh

vm: build
	scripts/vm.sh

# the prefix is checked before anything is built
install:
	@PREFIX="$(PREFIX)" scripts/install.sh --check-prefix
	$(MAKE) --no-print-directory build
	PREFIX="$(PREFIX)" scripts/install.sh

bench: build
	scripts/bench-host.py
	scripts/bench-guest.py

bench-host: build
	scripts/bench-host.py

bench-guest: build
	scripts/bench-guest.py

export:
	scripts/export.sh

status:
	scripts/status.sh

clean:
	rm -rf qemu/build qemu/configure-*.log .cache/check .cache/demo

distclean:
	scripts/status.sh
	rm -rf qemu .cache
