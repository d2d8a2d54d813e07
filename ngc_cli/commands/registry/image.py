"""`ngc registry image list|info|update|remove|push|pull` (guide 3.4, 3.5.2). push/pull move an image
between the registry and a local OCI layout directory or OCI archive (.tar), over the registry protocol."""
import fnmatch
import json
from argparse import Namespace
from pathlib import Path

from ngc_cli import oci
from ngc_cli.cli import Context, Subparsers, add_command, add_group, add_yes
from ngc_cli.client import q
from ngc_cli.errors import NgcError
from ngc_cli.output import human_date

HELP = "Container images: list, info, update, remove, push and pull (OCI layouts, no Docker daemon)."
TARGET = "<org>/[<team>/]<image>[:<tag>]"
REPO_COLUMNS = ["Name", "Repository", "Latest Tag", "Image Size", "Updated Date", "Permission"]
TAG_COLUMNS = ["Tag", "Digest", "Image Size", "Updated Date", "Architectures"]


def register(subparsers: Subparsers) -> None:
    sub = add_group(subparsers, "image", HELP)
    cmd = add_command(sub, "list", "List images; wildcards (\"acme/*\", \"*nvidian*\") search, "
                      "\"<org>/<image>:*\" lists tags.", _list)
    cmd.add_argument("pattern", nargs="?", metavar="<pattern>", help=f"{TARGET}, with * and ? wildcards.")
    cmd = add_command(sub, "info", "Show an image repository, or one tagged image.", _info)
    cmd.add_argument("target", metavar=TARGET)
    cmd = add_command(sub, "update", "Update an image repository's metadata.", _update)
    cmd.add_argument("target", metavar=TARGET)
    cmd.add_argument("--desc", metavar="<desc>", help="Description for the target image.")
    cmd.add_argument("--overview", metavar="<file.md>", help="Documentation (text or markdown file) for the image.")
    cmd.add_argument("--label", action="append", metavar="<label>", help="A label to describe the repository. Repeatable.")
    cmd.add_argument("--logo", metavar="<url>", help="A URL pointing to the logo for the repository.")
    cmd.add_argument("--publisher", metavar="<publisher>", help="The person or entity publishing the image.")
    cmd.add_argument("--built-by", metavar="<name>", help="The person who built the container image.")
    cmd.add_argument("--display-name", metavar="<name>", help="Display name of the repository.")
    cmd = add_command(sub, "remove", "Remove an image repository (all tags), or one tag with <image>:<tag>.", _remove)
    cmd.add_argument("target", metavar=TARGET)
    add_yes(cmd)
    cmd = add_command(sub, "push", "Push an image from an OCI layout directory or OCI archive (.tar); tag 'latest' by default.",
                      _push)
    cmd.add_argument("target", metavar=TARGET)
    cmd.add_argument("--source", required=True, metavar="<dir|file.tar>", help="OCI layout directory or OCI archive.")
    cmd.add_argument("--source-tag", metavar="<ref>", help="Which image of the layout (its ref name) when it holds several.")
    cmd = add_command(sub, "pull", "Pull an image into an OCI layout directory (or an OCI archive if --dest ends in .tar).",
                      _pull)
    cmd.add_argument("target", metavar=TARGET)
    cmd.add_argument("--dest", metavar="<dir|file.tar>", help="Default: ./<image>_<tag> (a layout directory).")


# --- helpers -------------------------------------------------------------------------------------

def human_size(size: float | str | None) -> str:
    if size in (None, ""):
        return ""
    size = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1000


class Target:
    def __init__(self, org: str, team: str | None, repo: str, tag: str | None):
        self.org, self.team, self.repo, self.tag = org, team, repo, tag

    @property
    def space(self) -> str:
        return f"/v2/org/{q(self.org)}" + (f"/team/{q(self.team)}" if self.team else "")

    @property
    def name(self) -> str:
        return "/".join(p for p in (self.org, self.team, self.repo) if p)

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "")


def parse(ctx: Context, text: str, *, resolve_team: bool = True) -> Target:
    name, tag = text, None
    last = text.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = text.rsplit(":", 1)
    parts = [p for p in name.split("/") if p]
    if len(parts) < 2:
        org = ctx.org_required()
        parts = [org, *([ctx.team] if ctx.team else []), *parts]
    org, rest = parts[0], parts[1:]
    team = None
    if len(rest) >= 2 and resolve_team and _is_team(ctx, org, rest[0]):
        team, rest = rest[0], rest[1:]
    if not rest:
        raise NgcError(f"'{text}' names no image: use {TARGET}")
    return Target(org, team, "/".join(rest), tag)


def _is_team(ctx: Context, org: str, name: str) -> bool:
    try:
        ctx.api.get(f"/v2/org/{q(org)}/teams/{q(name)}", org=org, team="")
        return True
    except NgcError:
        return False


def _repo_path(target: Target) -> str:
    return f"{target.space}/repos/{target.repo}"


def _what(target: Target) -> str:
    return f"Image '{target}'" if target.tag else f"Image repository '{target.name}'"


# --- commands ------------------------------------------------------------------------------------

def _list(args: Namespace, ctx: Context) -> int:
    pattern = args.pattern
    if pattern and ":" in pattern.rsplit("/", 1)[-1]:
        target = parse(ctx, pattern)
        return _list_tags(ctx, target, target.tag or "*")
    if pattern and not any(c in pattern for c in "*?["):
        return _list_tags(ctx, parse(ctx, pattern), "*")
    org = ctx.org_required()
    glob = pattern or f"{org}/*"
    space = f"org/{q(org)}" + (f"/team/{q(ctx.team)}" if ctx.team else "")
    resources, page = [], 0
    while True:
        query = {"query": f"resourceId:{glob}", "queryFields": ["name", "displayName", "description", "all"],
                 "page": page, "pageSize": 100, "orderBy": [{"field": "score", "value": "ASC"}]}
        body = ctx.api.get(f"/v2/search/{space}/resources/CONTAINER", params={"q": json.dumps(query)}, org=org,
                           team=ctx.team or "")
        for group in body.get("results") or []:
            resources += group.get("resources") or []
        page += 1
        if page >= int(body.get("resultPageTotal") or 0):
            break
    rows = []
    for r in resources:
        attrs = {a.get("key"): a.get("value") for a in r.get("attributes") or []}
        rows.append([r.get("displayName") or r.get("name"), r.get("resourceId"), attrs.get("latestTag"),
                     human_size(attrs.get("size")), human_date(r.get("dateModified")),
                     "unlocked" if r.get("isPublic") else "locked"])
    ctx.out.table(REPO_COLUMNS, rows, resources)
    return 0


def _list_tags(ctx: Context, target: Target, tag_glob: str) -> int:
    images = ctx.api.paged(f"{_repo_path(target)}/images", "images", org=target.org, team=target.team or "",
                           what=f"Image repository '{target.name}'")
    images = [i for i in images if fnmatch.fnmatchcase(i.get("tag", ""), tag_glob)]
    rows = [[i.get("tag"), i.get("digest"), human_size(i.get("size")), human_date(i.get("updatedDate")),
             sorted({v.get("architecture") for v in i.get("architectureVariants") or []})] for i in images]
    ctx.out.table(TAG_COLUMNS, rows, images)
    return 0


def _info(args: Namespace, ctx: Context) -> int:
    target = parse(ctx, args.target)
    kw = {"org": target.org, "team": target.team or "", "what": _what(target)}
    if target.tag:
        image = ctx.api.get(f"{_repo_path(target)}/images/{q(target.tag)}", **kw)
        variants = image.get("architectureVariants") or []
        ctx.out.info("Image Information", [
            ("Name", str(target)), ("Digest", image.get("digest")),
            ("Architecture", ", ".join(sorted({v.get("architecture", "") for v in variants})) or image.get("architecture")),
            ("Schema Version", image.get("schemaVersion")), ("Media Type", image.get("mediaType")),
            ("Image Size", human_size(image.get("size"))), ("Updated Date", image.get("updatedDate")),
            *([("GPU Compatibility", "; ".join(  # verdicts per GPU host of the org (docs/gpu-hosts.md)
                f"{v.get('host')} {v.get('platform')}: {v.get('status')}" for v in image["gpuCompatibility"]))]
              if image.get("gpuCompatibility") else []),
        ], image)
        return 0
    repo = ctx.api.get(_repo_path(target), params={"resolve-labels": "false"}, **kw)
    ctx.out.info("Image Repository Information", [
        ("Name", repo.get("resourceId") or target.name), ("Display Name", repo.get("displayName")),
        ("Short Description", repo.get("shortDescription")), ("Built By", repo.get("builtBy")),
        ("Publisher", repo.get("publisher")), ("Labels", repo.get("labels")), ("Logo", repo.get("logo")),
        ("Public", repo.get("isPublic")), ("Latest Tag", repo.get("latestTag")),
        ("Latest Image Size", human_size(repo.get("latestImageSize"))), ("Tags", repo.get("tags")),
        ("Created Date", repo.get("createdDate")), ("Updated Date", repo.get("updatedDate")),
        (None, "Overview"), (None, repo.get("description") or "(none)"),
    ], repo)
    return 0


def _update(args: Namespace, ctx: Context) -> int:
    target = parse(ctx, args.target)
    body = {}
    if args.desc is not None:
        body["shortDescription"] = args.desc
    if args.overview is not None:
        try:
            body["description"] = Path(args.overview).read_text()
        except OSError as exc:
            raise NgcError(f"Cannot read the overview file {args.overview}: {exc.strerror}") from None
    if args.label is not None:
        body["labels"] = args.label
    for arg, key in (("logo", "logo"), ("publisher", "publisher"), ("built_by", "builtBy"), ("display_name", "displayName")):
        if getattr(args, arg) is not None:
            body[key] = getattr(args, arg)
    if not body:
        raise NgcError("Nothing to update: give --desc, --overview, --label, --logo, --publisher or --built-by")
    repo = ctx.api.patch(_repo_path(target), json=body, org=target.org, team=target.team or "",
                         what=f"Image repository '{target.name}'")
    ctx.out.message(f"Successfully updated image '{target.name}'.", repo)
    return 0


def _remove(args: Namespace, ctx: Context) -> int:
    target = parse(ctx, args.target)
    if not ctx.confirm(f"Are you sure you would like to remove {target}?"):
        ctx.out.message("Removal cancelled.", {"removed": False})
        return 1
    path = f"{_repo_path(target)}/images/{q(target.tag)}" if target.tag else _repo_path(target)
    ctx.api.delete(path, org=target.org, team=target.team or "", what=_what(target))
    ctx.out.message(f"Successfully removed {target}.", {"removed": str(target)})
    return 0


def _push(args: Namespace, ctx: Context) -> int:
    target = parse(ctx, args.target)
    tag = target.tag or "latest"
    stats = oci.push(oci.Registry(ctx.api, target.name), Path(args.source), tag, args.source_tag)
    ctx.out.message(f"Pushed {target.name}:{tag} ({stats['digest']}): {stats['uploaded']} blobs uploaded, "
                    f"{stats['skipped']} already present.", {"image": f"{target.name}:{tag}", **stats})
    return 0


def _pull(args: Namespace, ctx: Context) -> int:
    target = parse(ctx, args.target)
    tag = target.tag or "latest"
    dest = Path(args.dest or f"{target.repo.replace('/', '_')}_{tag}")
    stats = oci.pull(oci.Registry(ctx.api, target.name), tag, dest, f"Image '{target.name}:{tag}'")
    ctx.out.message(f"Pulled {target.name}:{tag} ({stats['digest']}) into {dest}.",
                    {"image": f"{target.name}:{tag}", "dest": str(dest), **stats})
    return 0
