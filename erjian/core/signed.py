"""Cache files that are only ever a cache: pickles signed with a key that never leaves this
machine's user account.

Unpickling runs code, so a cache file is read only when its HMAC-SHA256 matches the key in
``$XDG_CACHE_HOME/erjian/cache-key`` (``~/.cache/erjian/cache-key``), which lives outside every
repository. A ``.cache/`` that arrived with a pull request, a file written by another machine
or a single flipped byte fails the check: the file is ignored with a one-line note and rebuilt,
never trusted and never a crash.

The key is resolved only once the repository is known (``never_trust_keys_under``, called
by every command before anything else): a key inside it (HOME at the checkout makes
``~/.cache`` the repository's own ``.cache/``) could have been committed together with caches
signed by it, so it is never read, and none is ever written there. Before any repository is
known, and whenever the stored key is not provably this user's own — a regular file (never
a link, FIFO or device), owned by the user, mode 600, exactly 32 bytes, in a folder that
belongs to the user and that no one else can write — the key is one made for this process
only, with a one-line note: caches then work within the run and are rebuilt by the next one.
An unusable key file is left where it is for the user to look at and remove.

``fresh()`` makes every read miss, for ``build --clean``, which must not depend on anything an
earlier build left behind.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import os
import pickle
import secrets
import stat
import sys
from pathlib import Path

from erjian.core.file_kinds import special_kind

MAGIC = b"erjian-signed-1\n"
_KEY_BYTES = 32
_DIGEST_BYTES = 32

_key: bytes | None = None
_key_folder: str | None = None   # the real path of the stored key's folder; None: a process key
_untrusted_roots: list[Path] = []
_reading = True
_noted: set[str] = set()


def key_file() -> Path:
    """Where this user's key is kept (an XDG_CACHE_HOME that is not absolute is ignored, as
    the XDG specification says: it would name a folder of whatever the current one is)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "erjian" / "cache-key"


def never_trust_keys_under(root: Path) -> None:
    """Declares a repository the commands work on: no key inside it is ever read or written
    (a key already in use that lies inside it is dropped for a process key). Key resolution
    waits for this: until a repository is known, only a process key is used."""
    global _key, _key_folder
    real = Path(os.path.realpath(root))
    if real not in _untrusted_roots:
        _untrusted_roots.append(real)
    repository = _key_folder and _inside_repository(_key_folder)
    if _key is not None and repository:
        _refused(key_file(), _in_repository(repository))
        _key, _key_folder = secrets.token_bytes(_KEY_BYTES), None


def _inside_repository(real: str) -> str | None:
    """The declared repository that the real path ``real`` lies in, if any."""
    for root in _untrusted_roots:
        if real == str(root) or real.startswith(str(root).rstrip(os.sep) + os.sep):
            return str(root)
    return None


def machine_key() -> bytes:
    """This account's cache key, created on first use; a key for this process only before
    a repository is declared, or when the stored one is unsafe or cannot be stored."""
    global _key, _key_folder
    if _key is None:
        stored = _stored_key(key_file()) if _untrusted_roots else None
        _key, _key_folder = stored or (secrets.token_bytes(_KEY_BYTES), None)
    return _key


class _Unsafe(Exception):
    """Why the key file (or its folder) is not provably this user's own, and what to do."""

    def __init__(self, why: str, fix: str = "remove it, and a new key is made"):
        super().__init__(why)
        self.why, self.fix = why, fix


def _in_repository(repository: str) -> _Unsafe:
    return _Unsafe(f"it is inside the repository {repository}",
                   "set XDG_CACHE_HOME to a folder of yours outside it to keep caches "
                   "between runs")


def _stored_key(path: Path) -> tuple[bytes, str] | None:
    """(the key at ``path``, its folder's real path), made when missing; None (and a
    note, unless the place merely cannot be written) when it must not be used."""
    folder = os.path.realpath(path.parent)
    repository = _inside_repository(folder)
    if repository is not None:
        _refused(path, _in_repository(repository))
        return None
    try:
        folder_fd = _private_folder(folder)
    except _Unsafe as unsafe:
        _refused(path, unsafe)
        return None
    except OSError:
        return None   # no place to keep a key (a read-only or missing home): a process key
    try:
        key = _read_key(folder_fd, path.name)
        if key is None:
            key = _made_key(folder_fd, path.name)
        return (key, folder) if key is not None else None
    except _Unsafe as unsafe:
        _refused(path, unsafe)
        return None
    except OSError:
        return None
    finally:
        os.close(folder_fd)


_ELSEWHERE = "set XDG_CACHE_HOME to a private folder of yours"


def _private_folder(folder: str) -> int:
    """A descriptor of ``folder`` (made, mode 700, when missing), which must be a real
    folder of this user's that no one else can write."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(folder, flags)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        fd = os.open(folder, flags)
    info = os.fstat(fd)
    if info.st_uid != os.geteuid():
        os.close(fd)
        raise _Unsafe("its folder belongs to another user", _ELSEWHERE)
    if info.st_mode & 0o022:
        os.close(fd)
        raise _Unsafe(f"its folder is writable by other users "
                      f"(mode {stat.S_IMODE(info.st_mode):o})", f"chmod 700 {folder}")
    return fd


def _read_key(folder_fd: int, name: str) -> bytes | None:
    """The key file ``name`` in the folder, or None when there is none; _Unsafe unless it
    is a regular file of this user's, mode 600, of exactly 32 bytes. Opened without
    following a link and without blocking (a FIFO), read no further than 33 bytes (a
    device that never ends)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=folder_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _Unsafe("it is a symbolic link") from None
        raise _Unsafe(f"it cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        kind = special_kind(info.st_mode)
        if kind:
            raise _Unsafe(f"it is {kind}, not a regular file")
        if info.st_uid != os.geteuid():
            raise _Unsafe("it belongs to another user")
        if info.st_mode & 0o077:
            raise _Unsafe(f"other users can read or change it "
                          f"(mode {stat.S_IMODE(info.st_mode):o}; it must be 600)")
        key = os.read(fd, _KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) > _KEY_BYTES:
        raise _Unsafe(f"it holds more than {_KEY_BYTES} bytes")
    if len(key) < _KEY_BYTES:
        raise _Unsafe(f"it holds {len(key)} bytes, not {_KEY_BYTES}")
    return key


def _made_key(folder_fd: int, name: str) -> bytes | None:
    """A new key stored as ``name`` in the folder; when another process stores one first,
    that one. Written whole to a private temporary file and then linked into place, so a
    reader never sees half a key."""
    temporary = f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600, dir_fd=folder_fd)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_BYTES))
        with contextlib.suppress(FileExistsError):   # another process was first: use its key
            os.link(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd,
                    follow_symlinks=False)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder_fd)
    return _read_key(folder_fd, name)


def _refused(path: Path, unsafe: _Unsafe) -> None:
    """One line, once per process, on why the stored key is not used."""
    if _KEY_NOTED in _noted:
        return
    _noted.add(_KEY_NOTED)
    print(f"note: not using the cache key {path}: {unsafe.why}; caches are kept for this "
          f"run only ({unsafe.fix})", file=sys.stderr)


_KEY_NOTED = "\0key"   # beside the paths of _note's cache files


def _mac(payload: bytes) -> bytes:
    return hmac.new(machine_key(), MAGIC + payload, hashlib.sha256).digest()


def dumps(value) -> bytes:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return MAGIC + _mac(payload) + payload


def dump(path: Path, value) -> None:
    """Replace ``path`` with ``value``, signed, atomically (a reader never sees half a file)."""
    write_bytes(path, dumps(value))


def write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def sign_bytes(payload: bytes) -> bytes:
    return MAGIC + _mac(payload) + payload


def verified_bytes(path: Path) -> bytes | None:
    """The payload of a signed file, or None when it is missing, unsigned or tampered with
    (noted once on stderr)."""
    if not _reading:
        return None
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        _note(path, f"unreadable ({exc.strerror})")
        return None
    head = len(MAGIC)
    if not data.startswith(MAGIC) or len(data) < head + _DIGEST_BYTES:
        _note(path, "not a cache file of this generator")
        return None
    mac, payload = data[head:head + _DIGEST_BYTES], data[head + _DIGEST_BYTES:]
    if not hmac.compare_digest(mac, _mac(payload)):
        _note(path, "not written by this machine's builds, or damaged")
        return None
    return payload


def load(path: Path):
    """The value stored at ``path`` by ``dump`` on this machine, or None."""
    payload = verified_bytes(path)
    if payload is None:
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # signed but unreadable: written by another version of the code
        _note(path, "written by another version of the generator")
        return None


@contextlib.contextmanager
def fresh(enabled: bool = True):
    """Within the block (when ``enabled``), every read misses: nothing cached is used."""
    global _reading
    previous, _reading = _reading, _reading and not enabled
    try:
        yield
    finally:
        _reading = previous


def _note(path: Path, why: str) -> None:
    text = str(path)
    if text in _noted:
        return
    _noted.add(text)
    print(f"note: ignored cache file {text}: {why}; it will be rebuilt", file=sys.stderr)


def bytecode_cache(folder: Path):
    """Jinja's bytecode cache with signed files: compiled templates are marshalled code, so
    an unsigned one must never be loaded."""
    from jinja2.bccache import BytecodeCache

    class SignedBytecodeCache(BytecodeCache):
        def __init__(self, directory: Path):
            self.directory = Path(directory)

        def _path(self, bucket) -> Path:
            return self.directory / f"{bucket.key}.cache"

        def load_bytecode(self, bucket) -> None:
            payload = verified_bytes(self._path(bucket))
            if payload is not None:
                bucket.bytecode_from_string(payload)

        def dump_bytecode(self, bucket) -> None:
            try:
                write_bytes(self._path(bucket), sign_bytes(bucket.bytecode_to_string()))
            except OSError:
                pass  # a cache that cannot be written is only slower

    return SignedBytecodeCache(folder)
