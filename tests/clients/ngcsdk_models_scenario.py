"""Drive NVIDIA's unmodified `ngcsdk` through a model's or a resource's whole life; run as a
subprocess by test_ngcsdk_models.py (the SDK reads its environment once, at import).

Usage: python ngcsdk_models_scenario.py <scenario> '<json arguments>'
The environment must already point the SDK at the server (NGC_CLI_API_URL, NGC_CLI_AUTH_URL,
REQUESTS_CA_BUNDLE, NGC_CLI_HOME). Prints one JSON object on the last line of stdout: the result
of each step, or the error raised and the steps done until then.
"""
import json
import os
import sys
import time
import traceback

from ngcsdk_scenario import plain  # same folder: the SDK result objects as JSON data


class Steps(dict):
    """The results so far; kept when a later step raises, so a failure report says how far it got."""


def log_offset(path: str | None) -> int:
    """Where the server's access log ends now. Gunicorn writes a line after the response is sent,
    so wait a moment for the lines of the requests just made."""
    if not path:
        return 0
    time.sleep(0.5)
    return os.path.getsize(path)


def wait_until_complete(api, target: str, timeout: float = 60) -> dict:
    """Poll `info` as a cautious script would. The server finalises a version within the client's
    last PATCH (read-after-upload), so the first poll already shows UPLOAD_COMPLETE."""
    started, polls = time.monotonic(), 0
    while True:
        polls += 1
        info = plain(api.info(target))
        version = info.get("modelVersion") or info.get("recipeVersion") or {}
        if version.get("status") != "UPLOAD_PENDING" or time.monotonic() - started > timeout:
            return {"status": version.get("status"), "polls": polls, "seconds": round(time.monotonic() - started, 2)}
        time.sleep(0.1)


def attempt(call):
    """Run a call expected to fail; return the SDK's error type and message (or what it returned)."""
    try:
        return {"returned": plain(call())}
    except Exception as exc:  # the SDK's own error type is what the test asserts on
        return {"type": type(exc).__name__, "message": str(exc)}


def model_lifecycle(args: dict, steps: Steps) -> None:
    """Guide 4.1 and 4.3 with the SDK: create, upload a version with its metadata and metrics,
    info, wildcard list, download, upload the same files again as a new version, remove."""
    from ngcsdk import Client

    client = Client()
    client.configure(api_key=args["key"], org_name="acme", team_name=args.get("team"))
    api = client.registry.model
    target = args["target"]
    steps["created"] = plain(api.create(
        target,
        application="OBJECT_DETECTION",
        framework="TensorFlow",
        model_format="ckpt",
        precision="FP16",
        short_description="A model for object detection using TensorFlow",
        built_by="My Name",
        display_name="Final Review Model",
        label=args.get("labels"),
        overview_filename=args["overview"],
        publisher="NVIDIA MyTeam",
        public_dataset_license="CC-BY-4.0",
        public_dataset_link="www.example.com",
        public_dataset_name="200_10x200_images",
    ))
    steps["log_before_first_upload"] = log_offset(args.get("log_path"))
    steps["uploaded"] = plain(api.upload_version(
        f"{target}:1",
        source=args["source"],
        accuracy_reached=96.5,
        batch_size=2000,
        gpu_model="V100",
        memory_footprint="4GB",
        num_epochs=100,
        description="A new and exciting version: 1",
        link="www.example.com/model/v1",
        link_type="Other",
        metric_files=args["metrics"],
    ))
    steps["finalised"] = wait_until_complete(api, f"{target}:1")
    steps["info"] = plain(api.info(target))
    steps["version_info"] = plain(api.info(f"{target}:1"))
    steps["listed"] = plain(api.list("acme/*"))
    steps["versions"] = plain(api.list(target))
    steps["downloaded"] = plain(api.download_version(f"{target}:1", destination=args["dest"]))
    _same_files_again(api, target, args, steps)
    _remove(api, target, steps)


def resource_lifecycle(args: dict, steps: Steps) -> None:
    """The same life for a resource (`ngc registry resource ...`), in a team space."""
    from ngcsdk import Client

    client = Client()
    client.configure(api_key=args["key"], org_name="acme", team_name=args.get("team"))
    api = client.registry.resource
    target = args["target"]
    steps["created"] = plain(api.create(
        target,
        application="OTHER",
        framework="PyTorch",
        model_format="SavedModel",
        precision="FP32",
        short_description="Training scripts and configs",
        overview_filename=args["overview"],
        display_name="Training Recipe",
        label=args.get("labels"),
        built_by="Team Alpha",
        publisher="Acme",
    ))
    steps["log_before_first_upload"] = log_offset(args.get("log_path"))
    steps["uploaded"] = plain(api.upload_version(
        f"{target}:1.0",
        source=args["source"],
        description="First drop of the recipe",
        gpu_model="A100",
        batch_size=64,
        num_epochs=3,
        accuracy_reached=0.91,
        memory_footprint="80GB",
    ))
    steps["finalised"] = wait_until_complete(api, f"{target}:1.0")
    steps["info"] = plain(api.info(target))
    steps["version_info"] = plain(api.info(f"{target}:1.0"))
    steps["listed"] = plain(api.list("acme/alpha/*"))
    steps["versions"] = plain(api.list(target))
    steps["downloaded"] = plain(api.download_version(f"{target}:1.0", destination=args["dest"]))
    _same_files_again(api, target, args, steps, version="2.0")
    _remove(api, target, steps, version="2.0")


def _same_files_again(api, target: str, args: dict, steps: Steps, version: str = "2") -> None:
    """Upload the same files as a new version; the log offsets bracket its requests."""
    steps["log_before_second_upload"] = log_offset(args.get("log_path"))
    steps["uploaded_again"] = plain(api.upload_version(f"{target}:{version}", source=args["source"]))
    steps["finalised_again"] = wait_until_complete(api, f"{target}:{version}")
    steps["log_after_second_upload"] = log_offset(args.get("log_path"))
    steps["second_version_info"] = plain(api.info(f"{target}:{version}"))
    steps["downloaded_again"] = plain(api.download_version(f"{target}:{version}", destination=args["dest"]))


def _remove(api, target: str, steps: Steps, version: str = "2") -> None:
    api.remove(f"{target}:{version}")
    steps["versions_after_version_removal"] = plain(api.list(target))
    api.remove(target)
    steps["info_after_removal"] = attempt(lambda: api.info(target))
    steps["download_after_removal"] = attempt(lambda: api.download_version(f"{target}:1", destination=steps["dest"]))


def outsider(args: dict, steps: Steps) -> None:
    """Someone from another org: acme's model is neither listed nor readable nor downloadable."""
    from ngcsdk import Client

    client = Client()
    client.configure(api_key=args["key"], org_name="globex")
    api = client.registry.model
    steps["listed"] = attempt(lambda: api.list("acme/*"))
    steps["info"] = attempt(lambda: api.info(args["target"]))
    steps["download"] = attempt(lambda: api.download_version(f"{args['target']}:1", destination=args["dest"]))
    steps["upload"] = attempt(lambda: api.upload_version(f"{args['target']}:9", source=args["source"]))


def read_after_upload(args: dict, steps: Steps) -> None:
    """Upload a version, then at once (no polling) read the model's info and download the version,
    `rounds` times with new bytes each round: what a training script does after saving a model."""
    from ngcsdk import Client

    client = Client()
    client.configure(api_key=args["key"], org_name="acme")
    api = client.registry.model
    target = args["target"]
    api.create(target, application="OTHER", framework="PyTorch", model_format="pt", precision="FP32",
               short_description="read after upload")
    rounds = []
    for number in range(1, args["rounds"] + 1):
        source = os.path.join(args["work"], f"source-{number}")
        os.makedirs(os.path.join(source, "nested"), exist_ok=True)
        with open(os.path.join(source, "weights.bin"), "wb") as handle:
            handle.write(os.urandom(100_000 + number))
        with open(os.path.join(source, "nested", "round.txt"), "w") as handle:
            handle.write(f"round {number}\n")
        uploaded = plain(api.upload_version(f"{target}:{number}", source=source))
        info = plain(api.info(target))
        version = plain(api.info(f"{target}:{number}"))
        destination = os.path.join(args["work"], f"download-{number}")
        os.makedirs(destination, exist_ok=True)
        downloaded = plain(api.download_version(f"{target}:{number}", destination=destination))
        rounds.append({
            "uploaded": uploaded.get("status"), "latest": info["model"].get("latestVersionIdStr"),
            "status": version["modelVersion"].get("status"), "downloaded": downloaded.get("path"),
            "source": source,
        })
        steps["rounds"] = rounds


SCENARIOS = {
    "model": model_lifecycle, "resource": resource_lifecycle, "outsider": outsider,
    "read_after_upload": read_after_upload,
}


def main() -> None:
    scenario, raw = sys.argv[1], sys.argv[2]
    args = json.loads(raw)
    steps = Steps(dest=args.get("dest"))
    try:
        SCENARIOS[scenario](args, steps)
        output = {"ok": True, "result": steps}
    except Exception as exc:  # reported to the test, which asserts on the SDK's error
        output = {
            "ok": False, "result": steps, "error_type": type(exc).__name__,
            "error": str(exc), "traceback": traceback.format_exc(),
        }
    print(json.dumps(output, default=str))


if __name__ == "__main__":
    main()
