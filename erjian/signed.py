"""Cache files that are only ever a cache: pickles signed with a key that never leaves this
machine's user account.

Unpickling runs code, so a cache file is read only when its HMAC-SHA256 matches the key in
``$XDG_CACHE_HOME/erjian/cache-key`` (``~/.cache/erjian/cache-key``), which lives outside every
repository. A ``.cache/`` that arrived with a pull request, a file written by another machine
or a single flipped byte fails the check: the file is ignored with a one-line note and rebuilt,
never trusted and never a crash.

``fresh()`` makes every read miss, for ``build --clean``, which must not depend on anything an
earlier build left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import sys
from pathlib import Path

MAGIC = b"erjian-signed-1\n"
_KEY_BYTES = 32
_DIGEST_BYTES = 32

_key: bytes | None = None
_reading = True
_noted: set[str] = set()


def key_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "erjian" / "cache-key"


_untrusted_roots: list[Path] = []


def never_trust_keys_under(root: Path) -> None:
    """A key file inside ``root`` (a repository: e.g. when HOME is the checkout, so that
    ~/.cache is the repository's .cache/) could have been committed with forged caches."""
    global _key
    _untrusted_roots.append(Path(os.path.realpath(root)))
    if _key is not None and _key_file_untrusted():
        _key = secrets.token_bytes(_KEY_BYTES)


def _key_file_untrusted() -> bool:
    where = Path(os.path.realpath(key_file()))
    return any(where == root or root in where.parents for root in _untrusted_roots)


def machine_key() -> bytes:
    """This account's cache key, created on first use. When it cannot be stored (or would be
    inside a repository), a key for this process only: caches then work within one run and
    are never trusted across runs."""
    global _key
    if _key is None:
        stored = None if _key_file_untrusted() else _stored_key(key_file())
        _key = stored or secrets.token_bytes(_KEY_BYTES)
    return _key


def _stored_key(path: Path) -> bytes | None:
    try:
        key = path.read_bytes()
        if len(key) == _KEY_BYTES:
            return key
    except OSError:
        pass
    key = secrets.token_bytes(_KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        os.replace(temporary, path)
        return path.read_bytes() if path.stat().st_size == _KEY_BYTES else None
    except OSError:
        return None


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
