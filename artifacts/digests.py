"""Content digests (`<algorithm>:<hex>`): parsing, validation and incremental hashing.

sha256 is the registry's default; sha512 is accepted wherever a client names it (OCI image spec).
"""
import hashlib
import re
from dataclasses import dataclass

ALGORITHMS = {"sha256": 64, "sha512": 128}
DEFAULT_ALGORITHM = "sha256"
_DIGEST_RE = re.compile(r"^(?P<algorithm>[a-z0-9]+(?:[+._-][a-z0-9]+)*):(?P<hex>[a-zA-Z0-9=_-]+)$")


class InvalidDigest(ValueError):
    pass


@dataclass(frozen=True)
class Digest:
    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def parse_digest(value: str) -> Digest:
    """Parse and validate a digest string; raise InvalidDigest for anything we cannot verify."""
    match = _DIGEST_RE.match(value or "")
    if not match:
        raise InvalidDigest(f"malformed digest {value!r}")
    algorithm, hexpart = match["algorithm"], match["hex"]
    if algorithm not in ALGORITHMS:
        raise InvalidDigest(f"unsupported digest algorithm {algorithm!r}")
    if len(hexpart) != ALGORITHMS[algorithm] or not re.fullmatch(r"[0-9a-f]+", hexpart):
        raise InvalidDigest(f"malformed {algorithm} digest {value!r}")
    return Digest(algorithm, hexpart)


def is_digest(value: str) -> bool:
    try:
        parse_digest(value)
    except InvalidDigest:
        return False
    return True


def new_hasher(algorithm: str = DEFAULT_ALGORITHM):
    if algorithm not in ALGORITHMS:
        raise InvalidDigest(f"unsupported digest algorithm {algorithm!r}")
    return hashlib.new(algorithm)


def digest_of(data: bytes, algorithm: str = DEFAULT_ALGORITHM) -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
