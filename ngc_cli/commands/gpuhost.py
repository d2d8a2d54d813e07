"""`ngc gpuhost ...`: the org's GPU hosts; `report` registers this machine from nvidia-smi's output."""
import socket
import subprocess
from argparse import Namespace

from ngc_cli.cli import Context, Subparsers, add_command, add_group, add_yes
from ngc_cli.client import q
from ngc_cli.errors import NgcError
from ngc_cli.gpuhost import SmiParseError, host_report

HELP = "GPU host commands: list, info, report (from nvidia-smi), remove."
QUERY = ["nvidia-smi", "--query-gpu=name,driver_version,compute_cap", "--format=csv,noheader"]


def register(subparsers: Subparsers) -> None:
    sub = add_group(subparsers, "gpuhost", HELP)
    add_command(sub, "list", "List the org's GPU hosts.", _list)
    cmd = add_command(sub, "info", "Show a GPU host.", _info)
    cmd.add_argument("name", metavar="<name>")
    cmd = add_command(sub, "report", "Register or update this host from nvidia-smi (or its saved output).", _report)
    cmd.add_argument("--name", metavar="<name>", help="Host name (default: this machine's hostname).")
    cmd.add_argument("--query-file", metavar="<path>",
                     help="Output of `nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader`.")
    cmd.add_argument("--smi-file", metavar="<path>", help="Output of plain `nvidia-smi` (its CUDA Version header).")
    cmd.add_argument("--arch", metavar="<arch>", help="CPU architecture (default: this machine's).")
    cmd.add_argument("--label", action="append", metavar="<label>", help="A label. Repeatable.")
    cmd.add_argument("--dry-run", action="store_true", help="Print what would be sent, send nothing.")
    cmd = add_command(sub, "remove", "Remove a GPU host.", _remove)
    cmd.add_argument("name", metavar="<name>")
    add_yes(cmd)


def _row(host: dict) -> list:
    gpus = "; ".join(f"{g.get('name')} ({g.get('computeCapability')})" for g in host.get("gpus") or [])
    return [host.get("name"), host.get("architecture"), host.get("driverVersion"), host.get("cudaVersion"), gpus]


def _list(args: Namespace, ctx: Context) -> None:
    org = ctx.org_required()
    hosts = ctx.api.paged(f"/v2/org/{q(org)}/gpu-hosts", "gpuHosts", team="")
    ctx.out.table(["Name", "Arch", "Driver", "CUDA", "GPUs"], [_row(h) for h in hosts], {"gpuHosts": hosts})


def _show(ctx: Context, host: dict) -> None:
    ctx.out.info("GPU Host Information", [
        ("Name", host.get("name")), ("Architecture", host.get("architecture")), ("OS", host.get("os")),
        ("Driver Version", host.get("driverVersion")), ("CUDA Version", host.get("cudaVersion")),
        ("GPUs", _row(host)[4]), ("Labels", ", ".join(host.get("labels") or [])),
        ("Updated Date", host.get("updatedDate")),
    ], {"gpuHost": host})


def _info(args: Namespace, ctx: Context) -> None:
    org = ctx.org_required()
    data = ctx.api.get(f"/v2/org/{q(org)}/gpu-hosts/{q(args.name)}", team="", what=f"GPU host '{args.name}'")
    _show(ctx, data.get("gpuHost") or {})


def _read(path: str | None, command: list[str]) -> str:
    if path:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError as exc:
            raise NgcError(f"Cannot read {path}: {exc.strerror}") from None
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise NgcError(f"Cannot run {' '.join(command)} ({exc}); pass its saved output with --query-file/--smi-file") from None


def _report(args: Namespace, ctx: Context) -> None:
    org = ctx.org_required()
    try:
        body = host_report(_read(args.query_file, QUERY), _read(args.smi_file, ["nvidia-smi"]),
                           architecture=args.arch, labels=args.label)
    except SmiParseError as exc:
        raise NgcError(f"Cannot read nvidia-smi's output: {exc}") from None
    name = args.name or socket.gethostname().split(".")[0]
    if args.dry_run:
        ctx.out.json({"name": name, **body})
        return
    data = ctx.api.put(f"/v2/org/{q(org)}/gpu-hosts/{q(name)}", json=body, team="")
    _show(ctx, data.get("gpuHost") or {})


def _remove(args: Namespace, ctx: Context) -> None:
    org = ctx.org_required()
    if not ctx.confirm(f"Remove GPU host '{args.name}' from org '{org}'?"):
        return
    ctx.api.delete(f"/v2/org/{q(org)}/gpu-hosts/{q(args.name)}", team="", what=f"GPU host '{args.name}'")
    ctx.out.message(f"Successfully removed GPU host '{args.name}'.")
