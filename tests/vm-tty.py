#!/usr/bin/python3
"""Drive 'make vm' (scripts/vm.sh) at a terminal, as a user would.

Usage: vm-tty.py COMMAND [ARG...]

Runs COMMAND on a new pseudo-terminal, waits for the guest's prompt
('zoned-vm# '), types a command that prints the disk's zoned model as
'zoned=MODEL', waits for the prompt again, types 'exit' and waits for
COMMAND to end.  Everything COMMAND printed goes to stdout (carriage
returns removed).  Exits with COMMAND's status, or 2 when the prompt or
the end did not come (a guard of 600 s per step against a hang: the guest
boots in well under a minute even under TCG; VM_TTY_GUARD=SECONDS).
"""
import os
import pty
import select
import sys
import time

PROMPT = b"zoned-vm# "
GUARD = int(os.environ.get("VM_TTY_GUARD", "600"))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    seen = bytearray()
    eof = [False]

    def read_until(pred):
        """Reads until pred() holds (True), or EOF / the guard (False)."""
        end = time.monotonic() + GUARD
        while not pred():
            left = end - time.monotonic()
            if left <= 0 or eof[0]:
                return False
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: every holder of the terminal is gone
                data = b""
            if not data:
                eof[0] = True
                continue
            seen.extend(data)
            sys.stdout.write(data.decode(errors="replace").replace("\r", ""))
            sys.stdout.flush()
        return True

    def type_line(line):
        for ch in line.encode() + b"\r":
            os.write(fd, bytes([ch]))
            time.sleep(0.01)  # a typist, not a paste into the UART's FIFO

    ok = read_until(lambda: seen.count(PROMPT) >= 1)
    if ok:
        type_line('echo "zoned=$(cat /sys/block/vda/queue/zoned)"')
        ok = read_until(lambda: seen.count(PROMPT) >= 2)
    if ok:
        type_line("exit")
        read_until(lambda: eof[0])
        ok = eof[0]
    if not ok:
        print("\nvm-tty: no prompt, or no end, within %d s" % GUARD,
              file=sys.stderr)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        return 2
    _, st = os.waitpid(pid, 0)
    return os.WEXITSTATUS(st) if os.WIFEXITED(st) else 2


if __name__ == "__main__":
    sys.exit(main())
