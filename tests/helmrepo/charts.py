"""Chart packages built in the tests (no `helm` binary): Chart.yaml, values.yaml and templates/,
tarred and gzipped as `helm package` lays them out, plus malicious variants."""
import gzip
import hashlib
import io
import tarfile

import yaml


def chart_yaml(name: str, version: str, **extra) -> bytes:
    document = {"apiVersion": "v2", "name": name, "version": version, "appVersion": "1.16.0",
                "description": f"A Helm chart for {name}", "type": "application", **extra}
    return yaml.safe_dump({k: v for k, v in document.items() if v is not None}, sort_keys=False).encode()


def tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def file_member(path: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(path)
    info.size = len(data)
    info.mode = 0o644
    return info, data


def package(name: str = "demo", version: str = "0.1.0", *, top: str | None = None, extra_members=(), **chart_fields) -> bytes:
    """A chart package as `helm package` makes it: `<name>/Chart.yaml`, values.yaml, templates/."""
    top = top or name
    members = [
        file_member(f"{top}/Chart.yaml", chart_yaml(name, version, **chart_fields)),
        file_member(f"{top}/values.yaml", b"replicaCount: 1\nimage:\n  repository: nginx\n"),
        file_member(f"{top}/templates/deployment.yaml", b"apiVersion: apps/v1\nkind: Deployment\n"),
        file_member(f"{top}/.helmignore", b".git\n"),
        *extra_members,
    ]
    return tar_gz(members)


def special_member(path: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(path)
    info.type = kind
    info.linkname = linkname
    return info, None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def gzip_bomb(name: str = "bomb", version: str = "0.1.0", *, unpacked: int, declared: bool = True) -> bytes:
    """A chart that unpacks to about `unpacked` zero bytes yet compresses to almost nothing: one
    member declaring that size (`declared`), or a small valid tar followed by zeros inside the
    same gzip stream (the bytes only show when the stream is read to its end)."""
    data = chart_yaml(name, version)
    info = tarfile.TarInfo(f"{name}/Chart.yaml")
    info.size = len(data)
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as stream:
        stream.write(info.tobuf() + data + b"\0" * (-len(data) % 512))
        if declared:
            big = tarfile.TarInfo(f"{name}/zeros.bin")
            big.size = unpacked
            stream.write(big.tobuf())
        else:
            stream.write(b"\0" * 1024)  # the end-of-archive blocks; the zeros below trail them
        chunk = b"\0" * (1024 * 1024)
        for _ in range(unpacked // len(chunk) + 1):
            stream.write(chunk)
    return out.getvalue()


def package_of(chart_yaml_text: str, name: str = "demo") -> bytes:
    """A package whose Chart.yaml is exactly `chart_yaml_text` (for YAML that safe_dump would not write)."""
    return tar_gz([
        file_member(f"{name}/Chart.yaml", chart_yaml_text.encode()),
        file_member(f"{name}/values.yaml", b"replicaCount: 1\n"),
    ])


def alias_bomb_yaml(name: str = "bomb", version: str = "0.1.0", *, levels: int = 7, width: int = 10) -> str:
    """"Billion laughs": each level a list of `width` aliases of the one before, keywords the last.
    A few hundred bytes that expand to width**levels values (10 million by default)."""
    lines = [f"apiVersion: v2\nname: {name}\nversion: {version}", f"l0: &l0 [{', '.join(['x'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    lines.append(f"keywords: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def alias_bomb(name: str = "bomb", version: str = "0.1.0") -> bytes:
    return package_of(alias_bomb_yaml(name, version), name)
