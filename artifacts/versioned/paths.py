"""Relative file paths inside a model or resource version (`sub/dir/weights.bin`).

One grammar for every entry point (the upload protocol, the commit, the file listing): a path is
relative, uses '/' as separator, and has no empty, '.' or '..' segments, no NUL or control
characters and no backslashes, so it can never escape the directory a download writes into.
"""
MAX_PATH_LENGTH = 1024
MAX_SEGMENT_LENGTH = 255


class InvalidPath(ValueError):
    pass


def validate_relative_path(path: str) -> str:
    """Return `path` unchanged if it is a safe relative file path, else raise InvalidPath."""
    if not isinstance(path, str) or not path:
        raise InvalidPath("A file path is required.")
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidPath(f"The file path is longer than {MAX_PATH_LENGTH} characters.")
    if "\\" in path:
        raise InvalidPath(f"The file path {path!r} contains a backslash; use '/'.")
    if any(ord(char) < 32 or ord(char) == 127 for char in path):
        raise InvalidPath("The file path contains a NUL or control character.")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":" and path[0].isalpha()):
        raise InvalidPath(f"The file path {path!r} must be relative.")
    for segment in path.split("/"):
        if segment == "":
            raise InvalidPath(f"The file path {path!r} has an empty segment.")
        if segment in (".", ".."):
            raise InvalidPath(f"The file path {path!r} may not contain '.' or '..' segments.")
        if len(segment) > MAX_SEGMENT_LENGTH:
            raise InvalidPath(f"A segment of the file path is longer than {MAX_SEGMENT_LENGTH} characters.")
    return path
