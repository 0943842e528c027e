"""Files written whole or not at all.

`write_atomic` writes to a temporary file beside the target and renames it
over the target (`os.replace`, atomic on POSIX and Windows), so a reader, or
a run killed at any moment, sees the old file or the new one, never half of
one. The file gets the permissions `open()` would give it (0o666 less the
umask), not the private 0o600 of `tempfile`. Temporary names carry the
writer's process id, so `remove_orphans` can tell a live writer's file
from one a killed process left behind, and delete only the latter.

`problems/_files.py` is this module's twin: the physics package does not
import the engine.
"""
import json
import os
import pathlib
import secrets

TMP_SUFFIX = ".tmp"


def temporary_name(path):
    """A fresh hidden name beside `path`: .NAME.PID.RANDOM.tmp."""
    path = pathlib.Path(path)
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}"


def probe_writable(directory):
    """Raise OSError unless a new file can be made in `directory` (os.access is
    not enough: it ignores read-only mounts for root). The probe has a
    temporary name of its own, so two writers checking one folder never remove
    each other's probe, and one a killed checker left is an orphan."""
    probe = temporary_name(pathlib.Path(directory) / "probe")
    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    probe.unlink()


def remove_orphans(directory):
    """Delete temporary files whose writer is dead: incomplete by definition.

    A temporary name carries its writer's process id (`temporary_name`);
    files of a live process, such as another run writing to the same folder, stay.
    """
    for tmp in directory.glob(f".*{TMP_SUFFIX}"):
        parts = tmp.name.split(".")
        try:
            pid = int(parts[-3])
        except (IndexError, ValueError):
            continue  # not one of ours
        if not _alive(pid):
            tmp.unlink(missing_ok=True)


def _alive(pid):
    if os.name == "nt":  # there os.kill(pid, 0) would terminate the process: keep every file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def write_atomic(path, write, *, fsync=True):
    """Call `write(f)` on a binary file that becomes `path` only when complete; returns the path.

    fsync: also force the data to disk before the rename (survives a power
    cut, not only a killed process).
    """
    path = pathlib.Path(path)
    tmp = temporary_name(path)
    try:  # the file is made inside: a Ctrl-C just after os.open returns must not leave it behind
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            with os.fdopen(fd, "wb") as f:
                write(f)
                if fsync:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            if exc.filename != os.fspath(tmp):
                raise
            # name the file the caller asked for, not our temporary one
            raise type(exc)(exc.errno, f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        try:
            tmp.unlink()
        except OSError:  # never made, or its folder is not one: nothing to remove
            pass
        raise
    if fsync:
        _fsync_directory(path.parent)
    return path


def write_text_atomic(path, text, *, fsync=True):
    """`text` (UTF-8) to `path`, whole or not at all."""
    return write_atomic(path, lambda f: f.write(text.encode("utf-8")), fsync=fsync)


def strict_json(obj, **kwargs):
    """JSON text that every parser reads: NaN or infinity is a ValueError, not `NaN`."""
    try:
        return json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError as exc:
        raise ValueError(f"{exc}: JSON headers hold finite numbers only") from None


def _fsync_directory(directory):
    """Make the rename itself durable; not possible (nor needed) on every OS."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
