"""Processes that never outlive the process that started them, however it ends (Ctrl-C,
SIGTERM, SIGKILL): on Linux the kernel's parent-death signal (prctl PR_SET_PDEATHSIG).

- `die_with_parent()` arms it for the calling process (`yanxiu run` towards `make`).
- `guarded(argv)` wraps a command in a tiny launcher (`python -m yanxiu.devstack.lifeline`)
  that arms it and then execs the command, so the guarded program keeps the launcher's pid.
  Popen's `preexec_fn` could do the same without the extra exec, but it is unsafe in a process
  with threads, which `yanxiu run` has.
- `warden_argv(pgdata)` starts a watcher for a server that is not our child: `pg_ctl` starts
  the embedded PostgreSQL detached, so the parent-death signal cannot reach it. The warden is
  our child, dies with us, and on its way out stops that server (fast shutdown).

The signal follows the *thread* that forked the child: start guarded children from the main
thread (the event loop's), never from a worker thread that may end before the process.
Elsewhere than Linux the launcher only execs; `yanxiu run` still stops its children on every
signal it can catch.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM, *, parent: int | None = None) -> bool:
    """Ask the kernel for `sig` when our parent exits. If `parent` (the pid we were started
    by) is already gone, the signal is raised at once: a parent that died between our fork and
    this call would otherwise go unnoticed. Returns False where there is no such facility."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), sig)
    return True


def guarded(argv: list[str], *, sig: int = signal.SIGTERM) -> list[str]:
    """`argv` run so that it receives `sig` when this process ends (its pid is the program's)."""
    return [sys.executable, "-m", __name__, "exec", str(int(sig)), str(os.getpid()), "--", *argv]


def warden_argv(pgdata: Path) -> list[str]:
    """A child that stops the PostgreSQL server of `pgdata` when it (and so we) end."""
    return [sys.executable, "-m", __name__, "warden", str(os.getpid()), str(pgdata)]


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the server running on `pgdata`, from its postmaster.pid, if it is alive."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, owned by another user (the server's own, under root)
        return pid
    return pid


def stop_postgres(pgdata: Path, *, timeout: float = 15.0) -> None:
    """Fast shutdown (SIGINT: roll back, disconnect, checkpoint), then immediate (SIGQUIT)."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        return
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if postmaster_pid(pgdata) != pid:
                return
            time.sleep(0.05)


def _warden(parent: int, pgdata: Path) -> None:
    ending = False

    def end(*_: object) -> None:
        nonlocal ending
        ending = True

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, end)
    die_with_parent(signal.SIGTERM, parent=parent)
    # The poll also covers systems without the parent-death signal.
    while not ending and os.getppid() == parent:
        time.sleep(0.5)
    stop_postgres(pgdata)


def main(argv: list[str]) -> None:
    mode, *rest = argv
    if mode == "exec":
        sig, parent, sep, *command = rest
        assert sep == "--" and command, "usage: lifeline exec SIG PARENT -- COMMAND…"
        die_with_parent(int(sig), parent=int(parent))
        os.execvp(command[0], command)
    elif mode == "warden":
        _warden(int(rest[0]), Path(rest[1]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
