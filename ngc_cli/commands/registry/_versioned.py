"""Shared by `ngc registry model` and `ngc registry resource` (guide chapters 4 and 5): the two have
the same commands and wire shapes (reference/ngc-api.md §5.2); resources answer `recipe…` keys
and carry documentation files. Transfers live in ngc_cli/transfers.py."""
import argparse
import fnmatch
import json
import re
from argparse import Namespace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ngc_cli import transfers
from ngc_cli.cli import Context, Subparsers, add_command, add_group, add_yes
from ngc_cli.client import space_path
from ngc_cli.errors import NgcError
from ngc_cli.output import human_date

GLOB = re.compile(r"[*?\[]")
LINK_TYPES = ("NGC", "Github", "Other")


class Kind:
    def __init__(self, word: str, plural: str, keys: dict, search_type: str, title: str):
        self.word, self.plural, self.keys, self.search_type, self.title = word, plural, keys, search_type, title


MODEL = Kind("model", "models", {"one": "model", "version": "modelVersion", "versions": "modelVersions",
                                 "files": "modelFiles"}, "MODEL", "Model")
RESOURCE = Kind("resource", "resources", {"one": "recipe", "version": "recipeVersion", "versions": "recipeVersions",
                                          "files": "recipeFiles"}, "RECIPE", "Resource")

# resource documentation files (guide 5.4) → wire field
DOC_FILES = {
    "advanced_filename": "advanced", "performance_filename": "performance",
    "quick_start_guide_filename": "quickStartGuide", "release_notes_filename": "releaseNotes",
    "setup_filename": "setup",
}


def parse_target(ctx: Context, target: str, *, version_allowed: bool = True) -> tuple[str, str | None, str, str | None]:
    """`org/[team/]name[:version]` (a bare `name` uses the configured org and team)."""
    name_part, _, version = target.partition(":")
    if version and not version_allowed:
        raise NgcError(f"'{target}': no version expected here")
    parts = [p for p in name_part.split("/") if p]
    if len(parts) == 1:
        org, team, name = ctx.org_required(), ctx.team, parts[0]
    elif len(parts) == 2:
        org, team, name = parts[0], None, parts[1]
    elif len(parts) == 3:
        org, team, name = parts
    else:
        raise NgcError(f"Invalid target '{target}': use <org>/[<team>/]<name>[:<version>]")
    return org, team, name, version or None


def make_target(ctx: Context, kind: Kind, target: str) -> transfers.Target:
    org, team, name, version = parse_target(ctx, target)
    return transfers.Target(org=org, team=team, kind=kind.plural, name=name, version=version or "",
                            space=space_path(org, team), one_key=kind.keys["one"],
                            version_key=kind.keys["version"], files_key=kind.keys["files"])


def _read(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).expanduser().read_text()
    except OSError as exc:
        raise NgcError(f"Cannot read '{path}': {exc.strerror}") from None


# --- arguments -------------------------------------------------------------------------------------


def _add_options(parser: argparse.ArgumentParser, options: list[tuple[str, str, str]]) -> None:
    for flag, metavar, help_text in options:
        parser.add_argument(flag, metavar=metavar, help=help_text)


def add_display_args(parser: argparse.ArgumentParser) -> None:
    """The display options of every versioned kind's and chart's create and update."""
    _add_options(parser, [
        ("--built-by", "<name>", "Builder."),
        ("--display-name", "<name>", "Display name."),
        ("--logo", "<url>", "URL of a logo image."),
        ("--overview-filename", "<path>", "File with the overview (markdown)."),
        ("--publisher", "<name>", "Publisher."),
    ])
    parser.add_argument("--label", action="append", metavar="<label>", help="A label; repeat for more.")


def _artifact_args(parser: argparse.ArgumentParser, kind: Kind, *, create: bool) -> None:
    parser.add_argument("--format", dest="model_format", metavar="<fmt>", help="Format of the model (e.g. ckpt).")
    _add_options(parser, [
        ("--application", "<app>", "Target application (e.g. OBJECT_DETECTION)."),
        ("--framework", "<fwk>", "Framework used to train it (e.g. TensorFlow)."),
        ("--precision", "<prec>", "Precision it was trained with (FP16, FP32, INT8...)."),
        ("--short-desc", "<desc>", "Short description."),
        ("--owner-name", "<name>", "Owner."),
        ("--public-dataset-license", "<lcs>", "License of the public dataset used."),
        ("--public-dataset-link", "<url>", "Link to the public dataset used."),
        ("--public-dataset-name", "<name>", "Name of the public dataset used."),
    ])
    add_display_args(parser)
    if kind is RESOURCE:
        for dest in DOC_FILES:
            flag = "--" + dest.replace("_", "-")
            parser.add_argument(flag, dest=dest, metavar="<path>", help=f"File with the {flag[2:-9].replace('-', ' ')}.")


def _version_args(parser: argparse.ArgumentParser) -> None:
    _add_options(parser, [
        ("--accuracy-reached", "<accuracy>", "Accuracy reached with this version."),
        ("--batch-size", "<size>", "Batch size."),
        ("--gpu-model", "<model>", "GPU used for training."),
        ("--memory-footprint", "<footprint>", "Memory footprint."),
        ("--num-epochs", "<num>", "Number of epochs."),
        ("--desc", "<desc>", "Full description of this version."),
        ("--link", "<url>", "Link to a related resource (with --link-type)."),
    ])
    parser.add_argument("--link-type", choices=LINK_TYPES, metavar="<type>", help="NGC, Github or Other.")
    parser.add_argument("--credentials-file", "--metrics-file", dest="metrics_files", action="append", metavar="<path>",
                        help="A JSON metrics table {name, attributes:[{key,value}]}; up to 3.")


def artifact_body(args: Namespace, kind: Kind, *, create: bool) -> dict:
    body = {
        "application": args.application, "framework": args.framework, "modelFormat": args.model_format,
        "precision": args.precision, "shortDescription": args.short_desc, "builtBy": args.built_by,
        "displayName": args.display_name, "logo": args.logo, "ownerName": args.owner_name,
        "publisher": args.publisher, "description": _read(args.overview_filename),
    }
    if kind is RESOURCE:
        for dest, wire in DOC_FILES.items():
            body[wire] = _read(getattr(args, dest))
    if args.label is not None:
        body["labelsV2"] = args.label
    dataset = {"name": args.public_dataset_name, "link": args.public_dataset_link, "license": args.public_dataset_license}
    if any(v is not None for v in dataset.values()):
        body["publicDatasetUsed"] = {k: v for k, v in dataset.items() if v is not None}
    return {k: v for k, v in body.items() if v is not None}


def version_body(args: Namespace) -> dict:
    body = {
        "accuracyReached": args.accuracy_reached, "batchSize": args.batch_size, "gpuModel": args.gpu_model,
        "memoryFootprint": args.memory_footprint, "numberOfEpochs": args.num_epochs, "description": args.desc,
    }
    if getattr(args, "owner_name", None) is not None:
        body["ownerName"] = args.owner_name
    if bool(args.link) != bool(args.link_type):
        raise NgcError("--link and --link-type go together")
    if args.link:
        body["otherContents"] = [{"key": args.link_type, "value": args.link}]
    if args.metrics_files:
        if len(args.metrics_files) > 3:
            raise NgcError("At most 3 metrics files per version")
        tables = []
        for path in args.metrics_files:
            try:
                table = json.loads(_read(path))
            except ValueError as exc:
                raise NgcError(f"'{path}' is not valid JSON: {exc}") from None
            if not isinstance(table, dict) or not isinstance(table.get("attributes"), list):
                raise NgcError(f"'{path}' must hold {{\"name\": ..., \"attributes\": [{{\"key\", \"value\"}}]}}")
            if len(table["attributes"]) > 12:
                raise NgcError(f"'{path}' has more than 12 attributes")
            tables.append(table)
        body["customMetrics"] = tables
    return {k: v for k, v in body.items() if v is not None}


# --- output ----------------------------------------------------------------------------------------


def artifact_info(ctx: Context, kind: Kind, obj: dict, header: str | None = None) -> None:
    dataset = obj.get("publicDatasetUsed") or {}
    pairs = [
        ("Name", obj.get("name")), ("Application", obj.get("application")),
        ("Framework", obj.get("framework") or obj.get("trainingFramework")), ("Model Format", obj.get("modelFormat")),
        ("Precision", obj.get("precision")), ("Short Description", obj.get("shortDescription")),
        ("Display Name", obj.get("displayName")), ("Org", obj.get("orgName")), ("Team", obj.get("teamName") or ""),
        ("Built By", obj.get("builtBy")), ("Publisher", obj.get("publisher")), ("Owner Name", obj.get("ownerName")),
        ("Labels", obj.get("labels") or []), ("Logo", obj.get("logo")),
        ("Public Dataset Name", dataset.get("name")), ("Public Dataset License", dataset.get("license")),
        ("Public Dataset Link", dataset.get("link")),
        ("Created Date", obj.get("createdDate")), ("Updated Date", obj.get("updatedDate")),
        ("Latest Version ID", obj.get("latestVersionIdStr")),
        ("Latest Version Size (bytes)", obj.get("latestVersionSizeInBytes")),
        ("Overview", obj.get("description")),
    ]
    ctx.out.info(f"{kind.title} Information", pairs, {kind.keys["one"]: obj}, header=header)


def version_info(ctx: Context, kind: Kind, obj: dict, header: str | None = None) -> None:
    pairs = [
        ("Id", obj.get("versionId")), ("Status", obj.get("status")), ("Batch Size", obj.get("batchSize")),
        ("Memory Footprint", obj.get("memoryFootprint")), ("Number Of Epochs", obj.get("numberOfEpochs")),
        ("Accuracy Reached", obj.get("accuracyReached")), ("GPU Model", obj.get("gpuModel")),
        ("Owner Name", obj.get("ownerName")), ("Created Date", obj.get("createdDate")),
        ("Description", obj.get("description")), ("Total File Count", obj.get("totalFileCount")),
        ("Total Size", transfers.human_size(obj.get("totalSizeInBytes"))),
        ("Link", ", ".join(f"{c.get('key')}: {c.get('value')}" for c in obj.get("otherContents") or [])),
    ]
    for table in obj.get("customMetrics") or []:
        pairs.append((None, f"Metrics table: {table.get('name')}"))
        pairs += [(f"  {a.get('key')}", a.get("value")) for a in table.get("attributes") or []]
    if obj.get("failureReason"):
        pairs.append(("Failure Reason", obj["failureReason"]))
    ctx.out.info(f"{kind.title} Version Information", pairs, {kind.keys["version"]: obj}, header=header)


# --- handlers --------------------------------------------------------------------------------------


def _what(kind: Kind, t: transfers.Target, version: str | None = None) -> str:
    path = f"{t.org}/{t.team + '/' if t.team else ''}{t.name}"
    return f"{kind.title} '{path}:{version}'" if version else f"{kind.title} '{path}'"


def _call(ctx: Context, t: transfers.Target, method: str, path: str, **kw: Any) -> Any:
    return ctx.api.request(method, path, org=t.org, team=t.team, **kw)


def next_version(ctx: Context, kind: Kind, t: transfers.Target) -> str:
    """The next version when upload-version is given none: the highest integer version + 1, or the
    last number of the highest dotted version + 1, else 1."""
    rows = ctx.api.paged(f"{t.base}/versions", kind.keys["versions"], page_size=1000, org=t.org, team=t.team)
    ids = [str(r.get("versionId")) for r in rows if r.get("versionId")]
    ints = [int(v) for v in ids if v.isdigit()]
    if ints:
        return str(max(ints) + 1)
    dotted = [v for v in ids if re.fullmatch(r"\d+(\.\d+)+", v)]
    if dotted:
        best = max(dotted, key=lambda v: tuple(int(p) for p in v.split(".")))
        head, _, last = best.rpartition(".")
        return f"{head}.{int(last) + 1}"
    return "1"


def build(subparsers: Subparsers, kind: Kind) -> None:
    group = add_group(subparsers, kind.word, f"{kind.title} commands.")
    word = kind.word

    cmd = add_command(group, "create", f"Create a {word}.", lambda a, c: _create(a, c, kind))
    cmd.add_argument("target", metavar="<org>/[<team>/]<name>")
    _artifact_args(cmd, kind, create=True)

    cmd = add_command(group, "update", f"Update a {word} or a {word} version (target:version).",
                      lambda a, c: _update(a, c, kind))
    cmd.add_argument("target", metavar="<org>/[<team>/]<name>[:<version>]")
    _artifact_args(cmd, kind, create=False)
    _version_args(cmd)

    cmd = add_command(group, "info", f"Show a {word} or a {word} version.", lambda a, c: _info(a, c, kind))
    cmd.add_argument("target", metavar="<org>/[<team>/]<name>[:<version>]")
    cmd.add_argument("--files", action="store_true", help="List the version's files too.")

    cmd = add_command(group, "list", f"List {kind.plural} (wildcards), or a {word}'s versions (name:*).",
                      lambda a, c: _list(a, c, kind))
    cmd.add_argument("target", nargs="?", default="*", metavar="<pattern>")

    cmd = add_command(group, "upload-version", f"Upload a {word} version.", lambda a, c: _upload(a, c, kind))
    cmd.add_argument("target", metavar="<org>/[<team>/]<name>[:<version>]")
    cmd.add_argument("--source", default=".", metavar="<path>", help="A file or directory to upload (default: .).")
    _version_args(cmd)
    cmd.add_argument("--owner-name", metavar="<name>", help="Owner of this version.")
    if kind is RESOURCE:
        for dest in DOC_FILES:
            cmd.add_argument("--" + dest.replace("_", "-"), dest=dest, metavar="<path>", help=argparse.SUPPRESS)
    cmd.add_argument("--threads", type=int, default=transfers.DEFAULT_THREADS, metavar="<n>",
                     help="Files uploaded in parallel.")
    cmd.add_argument("--no-commit", action="store_true", help="Upload and commit the files, leave the version pending.")
    cmd.add_argument("--part-size", type=int, default=None, help=argparse.SUPPRESS)
    cmd.add_argument("--wait-timeout", type=float, default=600, help=argparse.SUPPRESS)

    cmd = add_command(group, "download-version", f"Download a {word} version to <dest>/<name>_v<version>/.",
                      lambda a, c: _download(a, c, kind))
    cmd.add_argument("target", metavar="<org>/[<team>/]<name>[:<version>]")
    cmd.add_argument("--dest", default=".", metavar="<path>", help="Destination directory (default: .).")
    cmd.add_argument("--threads", type=int, default=transfers.DEFAULT_THREADS, metavar="<n>",
                     help="Files downloaded in parallel.")

    cmd = add_command(group, "remove", f"Remove a {word} (every version) or one version.",
                      lambda a, c: _remove(a, c, kind))
    cmd.add_argument("target", metavar="<org>/[<team>/]<name>[:<version>]")
    add_yes(cmd)


def _create(args: Namespace, ctx: Context, kind: Kind) -> None:
    t = make_target(ctx, kind, args.target)
    if t.version:
        raise NgcError(f"Create takes no version: '{args.target}'")
    body = {"name": t.name, **artifact_body(args, kind, create=True)}
    created = _call(ctx, t, "POST", f"/v2/{t.space}/{kind.plural}", json=body, what=_what(kind, t))
    artifact_info(ctx, kind, created.get(kind.keys["one"]) or {},
                  header=f"Successfully created {kind.word} '{args.target}'.")


def _update(args: Namespace, ctx: Context, kind: Kind) -> None:
    t = make_target(ctx, kind, args.target)
    if t.version:
        body = version_body(args)
        if kind is RESOURCE:
            for dest, wire in DOC_FILES.items():
                if getattr(args, dest, None) is not None:
                    body[wire] = _read(getattr(args, dest))
        if not body:
            raise NgcError("Nothing to update: give at least one version option")
        done = _call(ctx, t, "PATCH", f"{t.base}/versions/{quote(t.version, safe='')}", json=body,
                     what=_what(kind, t, t.version))
        version_info(ctx, kind, done.get(kind.keys["version"]) or {},
                     header=f"Successfully updated {kind.word} version '{args.target}'.")
        return
    body = artifact_body(args, kind, create=False)
    if not body:
        raise NgcError("Nothing to update: give at least one option")
    done = _call(ctx, t, "PATCH", t.base, json=body, what=_what(kind, t))
    artifact_info(ctx, kind, done.get(kind.keys["one"]) or {}, header=f"Successfully updated {kind.word} '{args.target}'.")


def _info(args: Namespace, ctx: Context, kind: Kind) -> None:
    t = make_target(ctx, kind, args.target)
    if t.version:
        body = _call(ctx, t, "GET", f"{t.base}/versions/{quote(t.version, safe='')}", what=_what(kind, t, t.version))
        version = body.get(kind.keys["version"]) or {}
        if args.files:
            files = ctx.api.paged(f"{t.base}/versions/{quote(t.version, safe='')}/files", kind.keys["files"],
                                  page_size=1000, org=t.org, team=t.team)
            version_info(ctx, kind, version) if ctx.out.format != "json" else None
            ctx.out.table(["Path", "Size", "SHA256"],
                          [[f.get("path"), transfers.human_size(f.get("sizeInBytes")), f.get("sha256")] for f in files],
                          {kind.keys["version"]: version, kind.keys["files"]: files})
            return
        version_info(ctx, kind, version)
        return
    body = _call(ctx, t, "GET", t.base, params={"resolve-labels": "false"}, what=_what(kind, t))
    artifact_info(ctx, kind, body.get(kind.keys["one"]) or {})


def _list(args: Namespace, ctx: Context, kind: Kind) -> None:
    target = args.target or "*"
    name_part, colon, version_glob = target.partition(":")
    if colon or not GLOB.search(name_part) and name_part.count("/") >= 1:
        t = make_target(ctx, kind, name_part)
        rows = ctx.api.paged(f"{t.base}/versions", kind.keys["versions"], page_size=1000,
                             params={"sort-order": "SEMVER_DESC"}, org=t.org, team=t.team, what=_what(kind, t))
        pattern = version_glob or "*"
        rows = [r for r in rows if fnmatch.fnmatchcase(str(r.get("versionId")), pattern)]
        columns = ["Version", "Accuracy", "Epochs", "Batch Size", "GPU Model", "Memory Footprint", "File Count",
                   "File Size", "Status", "Created Date"]
        ctx.out.table(columns, [[
            r.get("versionId"), r.get("accuracyReached"), r.get("numberOfEpochs"), r.get("batchSize"),
            r.get("gpuModel"), r.get("memoryFootprint"), r.get("totalFileCount"),
            transfers.human_size(r.get("totalSizeInBytes")), r.get("status"), human_date(r.get("createdDate")),
        ] for r in rows], rows)
        return
    hits = search(ctx, kind.search_type, name_part)
    columns = ["Name", "Repository", "Latest Version", "Application", "Framework", "Precision", "Last Modified",
               "Permission"]
    rows = []
    for hit in hits:
        attrs = {a.get("key"): a.get("value") for a in hit.get("attributes") or []}
        rows.append([hit.get("displayName") or hit.get("name"), hit.get("resourceId"), attrs.get("latestVersionIdStr"),
                     attrs.get("application"), attrs.get("framework"), attrs.get("precision"),
                     human_date(hit.get("dateModified")), "unlocked"])
    ctx.out.table(columns, rows, hits)


def search(ctx: Context, search_type: str, pattern: str) -> list:
    """Every hit of `/v2/search/org/<org>/resources/<TYPE>` for a resourceId glob (an org search
    covers the org's teams the caller may read)."""
    first = pattern.split("/", 1)[0]
    org = first if "/" in pattern and not GLOB.search(first) else ctx.org_required()
    if "/" not in pattern and not pattern.startswith("*"):
        pattern = f"*/{pattern}"
    hits, page = [], 0
    while True:
        query = {"query": f"resourceId:{pattern}", "queryFields": ["name", "displayName", "description", "all"],
                 "orderBy": [{"field": "score", "value": "ASC"}], "page": page, "pageSize": 100}
        body = ctx.api.get(f"/v2/search/org/{quote(org, safe='')}/resources/{search_type}",
                           params={"q": json.dumps(query)}, org=org, team=None)
        for group in body.get("results") or []:
            hits.extend(group.get("resources") or [])
        page += 1
        if page >= int(body.get("resultPageTotal") or 1):
            return hits


def _upload(args: Namespace, ctx: Context, kind: Kind) -> None:
    t = make_target(ctx, kind, args.target)
    if not t.version:
        t.version = next_version(ctx, kind, t)
    body = version_body(args)
    if kind is RESOURCE:
        for dest, wire in DOC_FILES.items():
            if getattr(args, dest, None) is not None:
                body[wire] = _read(getattr(args, dest))
    summary, final = transfers.upload_version(
        ctx.api, t, args.source, version_body=body, threads=args.threads, part_size=args.part_size,
        commit=not args.no_commit, wait_timeout=args.wait_timeout,
    )
    summary.print(ctx.out)
    if final.get("status") == "UPLOAD_FAILED":
        raise NgcError(f"The server could not verify version '{t.version}': {final.get('failureReason') or 'upload failed'}")
    if not args.no_commit and final.get("status") != "UPLOAD_COMPLETE":
        raise NgcError(f"Version '{t.version}' is still {final.get('status')}; check it later with `ngc registry {kind.word} info`")


def _download(args: Namespace, ctx: Context, kind: Kind) -> None:
    t = make_target(ctx, kind, args.target)
    if not t.version:
        body = _call(ctx, t, "GET", t.base, what=_what(kind, t))
        t.version = (body.get(kind.keys["one"]) or {}).get("latestVersionIdStr") or ""
        if not t.version:
            raise NgcError(f"{_what(kind, t)} has no complete version to download")
    summary = transfers.download_version(ctx.api, t, args.dest, threads=args.threads)
    summary.print(ctx.out)


def _remove(args: Namespace, ctx: Context, kind: Kind) -> int | None:
    t = make_target(ctx, kind, args.target)
    if not ctx.confirm(f"Are you sure you would like to remove {args.target}?"):
        ctx.out.message("Remove cancelled.")
        return 1
    if t.version:
        _call(ctx, t, "DELETE", f"{t.base}/versions/{quote(t.version, safe='')}", what=_what(kind, t, t.version))
        ctx.out.message(f"Successfully removed {kind.word} version '{args.target}'.")
    else:
        _call(ctx, t, "DELETE", t.base, what=_what(kind, t))
        ctx.out.message(f"Successfully removed {kind.word} '{args.target}'.")
