"""NVIDIA's unmodified `ngcsdk` against the deployed processes: create a model, upload a version,
then at once read it back (info, download), as a script does. Run as a subprocess by
test_deployed_smoke.py (the SDK reads its environment once, at import).

Usage: python ngcsdk_smoke.py upload_then_read '<json arguments>'
Prints one JSON object on the last line of stdout: each step's result, or the error raised.
"""
import json
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "clients"))
from ngcsdk_scenario import plain  # noqa: E402 (the SDK's result objects as JSON data)



def upload_then_read(args: dict, steps: dict) -> None:
    from ngcsdk import Client

    client = Client()
    client.configure(api_key=args["key"], org_name="acme", team_name=args.get("team"))
    api = client.registry.model
    target = args["target"]
    steps["created"] = plain(api.create(
        target, application="OTHER", framework="PyTorch", model_format="pt", precision="FP16",
        short_description="Deployed-path smoke model",
    ))
    steps["uploaded"] = plain(api.upload_version(f"{target}:1", source=args["source"]))
    # Read at once, as a script does: the PATCH to UPLOAD_COMPLETE answered only when the version
    # was final (issue 13 item 2), so no polling.
    steps["info"] = plain(api.info(target))
    steps["version_info"] = plain(api.info(f"{target}:1"))
    steps["downloaded"] = plain(api.download_version(f"{target}:1", destination=args["dest"]))


def main() -> None:
    scenario, args = sys.argv[1], json.loads(sys.argv[2])
    steps: dict = {}
    try:
        {"upload_then_read": upload_then_read}[scenario](args, steps)
        output = {"ok": True, "result": steps}
    except Exception as exc:  # reported to the test with the steps done until then
        output = {"ok": False, "result": steps, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    print(json.dumps(output, default=str))


if __name__ == "__main__":
    main()
