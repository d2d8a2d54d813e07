"""`ngc registry chart create|update|info|list|push|pull|remove` (guide 6.4; reference/ngc-api.md §5.6).

Metadata goes through `/v2/{ot}/helm-charts…`; packages through the ChartMuseum-style Helm API
of the same server: `POST {base}/helm/api/<org>[/<team>]/charts` (raw .tgz, Bearer token) and
`GET {base}/helm/<org>[/<team>]/charts/<name>-<version>.tgz`."""
import fnmatch
import io
import tarfile
from argparse import ArgumentParser, Namespace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ngc_cli import transfers
from ngc_cli.cli import Context, Subparsers, add_command, add_group, add_yes
from ngc_cli.client import space_path
from ngc_cli.commands.registry._versioned import GLOB, _read, add_display_args, parse_target, search
from ngc_cli.errors import NgcError, from_response
from ngc_cli.output import human_date

HELP = "Helm chart commands."


def register(subparsers: Subparsers) -> None:
    group = add_group(subparsers, "chart", HELP)
    cmd = add_command(group, "create", "Create a chart record (before the first push).", _create)
    cmd.add_argument("target", metavar="<org>/[<team>/]<chart>")
    _meta_args(cmd, create=True)
    cmd = add_command(group, "update", "Update a chart's information.", _update)
    cmd.add_argument("target", metavar="<org>/[<team>/]<chart>")
    _meta_args(cmd, create=False)
    cmd = add_command(group, "info", "Show a chart or a chart version.", _info)
    cmd.add_argument("target", metavar="<org>/[<team>/]<chart>[:<version>]")
    cmd = add_command(group, "list", "List charts (wildcards), or a chart's versions (chart:*).", _list)
    cmd.add_argument("target", nargs="?", default="*", metavar="<pattern>")
    cmd = add_command(group, "push", "Push <chart>-<version>.tgz.", _push)
    cmd.add_argument("target", metavar="<org>/[<team>/]<chart>:<version>")
    cmd.add_argument("--source", default=".", metavar="<path>",
                     help="The .tgz package, or the directory holding <chart>-<version>.tgz (default: .).")
    cmd = add_command(group, "pull", "Download a chart package (latest version if none given).", _pull)
    cmd.add_argument("target", metavar="<org>/[<team>/]<chart>[:<version>]")
    cmd.add_argument("--dest", default=".", metavar="<path>", help="Destination directory (default: .).")
    cmd = add_command(group, "remove", "Remove a chart version, or a chart and every version.", _remove)
    cmd.add_argument("target", metavar="<org>/[<team>/]<chart>[:<version>]")
    add_yes(cmd)


def _meta_args(parser: ArgumentParser, *, create: bool) -> None:
    parser.add_argument("--short-desc", required=create, metavar="<desc>", help="Short description.")
    add_display_args(parser)


class _T:
    def __init__(self, ctx: Context, target: str):
        self.org, self.team, self.name, self.version = parse_target(ctx, target)
        self.space = space_path(self.org, self.team)
        self.base = f"/v2/{self.space}/helm-charts/{quote(self.name, safe='')}"
        self.path = f"{self.org}/{self.team + '/' if self.team else ''}{self.name}"
        self.helm = f"{self.org}/{self.team}" if self.team else self.org


def _call(ctx: Context, t: _T, method: str, path: str, **kw: Any) -> Any:
    return ctx.api.request(method, path, org=t.org, team=t.team, **kw)


def _chart_info(ctx: Context, obj: dict, header: str | None = None) -> None:
    pairs = [
        ("Name", obj.get("name")), ("Short Description", obj.get("shortDescription")),
        ("Display Name", obj.get("displayName")), ("Team", obj.get("teamName") or ""),
        ("Publisher", obj.get("publisher")), ("Built By", obj.get("builtBy")), ("Labels", obj.get("labels") or []),
        ("Logo", obj.get("logo")), ("Created Date", obj.get("createdDate")), ("Updated Date", obj.get("updatedDate")),
        ("Read Only", obj.get("isReadOnly", False)), ("Latest Version ID", obj.get("latestVersionId")),
        ("Latest Version Size (bytes)", obj.get("latestVersionSizeInBytes")), ("Overview", obj.get("description")),
    ]
    ctx.out.info("Chart Information", pairs, {"artifact": obj}, header=header)


def _version_info(ctx: Context, obj: dict, header: str | None = None) -> None:
    pairs = [
        ("Created Date", obj.get("createdDate")), ("Updated Date", obj.get("updatedDate")), ("Version ID", obj.get("id")),
        ("Total File Count", obj.get("totalFileCount")), ("Total Size", transfers.human_size(obj.get("totalSizeInBytes"))),
        ("Status", obj.get("status")),
    ]
    ctx.out.info("Chart Version Information", pairs, {"artifactVersion": obj}, header=header)


def _body(args: Namespace) -> dict:
    body = {"shortDescription": args.short_desc, "displayName": args.display_name, "logo": args.logo,
            "publisher": args.publisher, "builtBy": args.built_by, "description": _read(args.overview_filename)}
    if args.label is not None:
        body["labelsV2"] = args.label
    return {k: v for k, v in body.items() if v is not None}


def _create(args: Namespace, ctx: Context) -> None:
    t = _T(ctx, args.target)
    done = _call(ctx, t, "POST", f"/v2/{t.space}/helm-charts", json={"name": t.name, **_body(args)},
                 what=f"Chart space '{t.helm}'")
    _chart_info(ctx, done.get("artifact") or {}, header=f"Successfully created chart '{args.target}'.")


def _update(args: Namespace, ctx: Context) -> None:
    t = _T(ctx, args.target)
    body = _body(args)
    if not body:
        raise NgcError("Nothing to update: give at least one option")
    done = _call(ctx, t, "PATCH", t.base, json=body, what=f"Chart '{t.path}'")
    _chart_info(ctx, done.get("artifact") or {}, header=f"Successfully updated chart '{args.target}'.")


def _info(args: Namespace, ctx: Context) -> None:
    t = _T(ctx, args.target)
    if t.version:
        body = _call(ctx, t, "GET", f"{t.base}/versions/{quote(t.version, safe='')}", params={"resolve-labels": "false"},
                     what=f"Chart '{t.path}:{t.version}'")
        _version_info(ctx, body.get("artifactVersion") or {})
    else:
        _chart_info(ctx, _call(ctx, t, "GET", t.base, what=f"Chart '{t.path}'").get("artifact") or {})


def _versions(ctx: Context, t: _T) -> list:
    return ctx.api.paged(f"{t.base}/versions", "artifactVersions", page_size=1000, params={"sort-order": "SEMVER_DESC"},
                         org=t.org, team=t.team, what=f"Chart '{t.path}'")


def _list(args: Namespace, ctx: Context) -> None:
    target = args.target or "*"
    name_part, colon, version_glob = target.partition(":")
    if colon or (not GLOB.search(name_part) and "/" in name_part):
        t = _T(ctx, name_part)
        rows = [r for r in _versions(ctx, t) if fnmatch.fnmatchcase(str(r.get("id")), version_glob or "*")]
        ctx.out.table(["Version", "File Count", "File Size", "Created Date"], [
            [r.get("id"), r.get("totalFileCount"), transfers.human_size(r.get("totalSizeInBytes")), human_date(r.get("createdDate"))]
            for r in rows], rows)
        return
    hits = search(ctx, "HELM_CHART", name_part)
    rows = []
    for hit in hits:
        attrs = {a.get("key"): a.get("value") for a in hit.get("attributes") or []}
        rows.append([hit.get("name"), hit.get("resourceId"), attrs.get("latestVersionIdStr"),
                     transfers.human_size(attrs.get("latestVersionSizeInBytes")), hit.get("createdBy"),
                     hit.get("description"), human_date(hit.get("dateCreated")), human_date(hit.get("dateModified"))])
    ctx.out.table(["Name", "Repository", "Version", "Size", "Created By", "Description", "Created Date",
                   "Last Modified"], rows, hits)


def _package(source: str, name: str, version: str) -> Path:
    path = Path(source).expanduser()
    if path.is_dir():
        path = path / f"{name}-{version}.tgz"
    if not path.is_file():
        raise NgcError(f"Chart package '{path}' not found (build it with `helm package`)")
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = next((m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml")), None)
            text = tar.extractfile(member).read().decode() if member else ""
    except (tarfile.TarError, OSError) as exc:
        raise NgcError(f"'{path}' is not a chart package (.tgz): {exc}") from None
    fields = {}
    for line in io.StringIO(text):
        key, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "\t", "#")):
            fields[key.strip()] = value.strip().strip("'\"")
    if fields.get("name") != name or fields.get("version") != version:
        raise NgcError(f"'{path.name}' holds chart {fields.get('name')}:{fields.get('version')}, not {name}:{version}")
    return path


def _push(args: Namespace, ctx: Context) -> None:
    t = _T(ctx, args.target)
    if not t.version:
        raise NgcError("Push needs a version: <org>/[<team>/]<chart>:<version>")
    package = _package(args.source, t.name, t.version)
    _call(ctx, t, "GET", t.base, what=f"Chart '{t.path}' (create it first with `ngc registry chart create`)")
    url = f"{ctx.api.base_url}/helm/api/{t.helm}/charts"
    response = ctx.api.send("POST", url, data=package.read_bytes(), headers={
        "Content-Type": "application/gzip", "Authorization": f"Bearer {ctx.api.token(t.org, t.team)}"})
    if response.status_code not in (200, 201):
        raise from_response(response, f"Chart '{t.path}'")
    version = _call(ctx, t, "GET", f"{t.base}/versions/{quote(t.version, safe='')}").get("artifactVersion") or {}
    _version_info(ctx, version, header=f"Successfully pushed chart version '{t.name}:{t.version}'.")


def _pull(args: Namespace, ctx: Context) -> None:
    t = _T(ctx, args.target)
    if not t.version:
        t.version = (_call(ctx, t, "GET", t.base, what=f"Chart '{t.path}'").get("artifact") or {}).get("latestVersionId")
        if not t.version:
            raise NgcError(f"Chart '{t.path}' has no versions")
    version = _call(ctx, t, "GET", f"{t.base}/versions/{quote(t.version, safe='')}",
                    what=f"Chart '{t.path}:{t.version}'").get("artifactVersion") or {}
    if version.get("status") not in (None, "UPLOAD_COMPLETE"):
        raise NgcError(f"Chart version '{t.path}:{t.version}' is {version.get('status')}")
    filename = f"{t.name}-{t.version}.tgz"
    response = ctx.api.send("GET", f"{ctx.api.base_url}/helm/{t.helm}/charts/{filename}",
                            headers={"Authorization": f"Bearer {ctx.api.token(t.org, t.team)}"})
    if response.status_code != 200:
        raise from_response(response, f"Chart '{t.path}:{t.version}'")
    dest = Path(args.dest).expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    (dest / filename).write_bytes(response.content)
    ctx.out.message(f"Successfully pulled chart version '{t.path}:{t.version}' to '{dest / filename}'.",
                    {"path": str(dest / filename), "version": version})


def _remove(args: Namespace, ctx: Context) -> int | None:
    t = _T(ctx, args.target)
    if not ctx.confirm(f"Are you sure you would like to remove {args.target}?"):
        ctx.out.message("Remove cancelled.")
        return 1
    if t.version:
        _call(ctx, t, "DELETE", f"{t.base}/versions/{quote(t.version, safe='')}", what=f"Chart '{t.path}:{t.version}'")
        ctx.out.message(f"Successfully removed chart version '{t.path}:{t.version}'.")
        return
    lines = [f"Successfully removed chart version '{t.path}:{r.get('id')}'." for r in _versions(ctx, t)]
    _call(ctx, t, "DELETE", t.base, what=f"Chart '{t.path}'")
    ctx.out.message("\n".join([*lines, f"Successfully removed chart '{t.path}'."]))
