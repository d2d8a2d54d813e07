"""Drive NVIDIA's unmodified `ngcsdk` against a server; run as a subprocess by test_ngcsdk.py.

Usage: python ngcsdk_scenario.py <scenario> '<json arguments>'
The environment must already point the SDK at the server (NGC_CLI_API_URL, NGC_CLI_AUTH_URL,
REQUESTS_CA_BUNDLE, NGC_CLI_HOME): the SDK reads it once, at import.
Prints one JSON object on the last line of stdout: the results of each step, or the error raised.
"""
import json
import sys
import traceback


def plain(value):
    """SDK result objects (generated data classes, NameSpaceObj, generators of pages) as JSON data."""
    if hasattr(value, "toDict"):
        return plain(value.toDict())
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) or hasattr(value, "__next__"):
        return [plain(item) for item in value]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {key: plain(item) for key, item in vars(value).items() if not key.startswith("_")}
    return value


def flatten_pages(pages):
    return [item for page in pages for item in (page or [])]


def admin(args: dict) -> dict:
    """What an org administrator does with an API key: teams, users, adding and inviting members."""
    from ngcsdk import Client

    client = Client()
    client.configure(api_key=args["key"], org_name="acme", team_name=args.get("team"))
    org, users = client.organization, client.users
    result = {}
    result["who"] = plain(users.who(org="acme"))
    result["orgs"] = plain(org.organization.list())
    result["teams_before"] = [team["name"] for team in plain(org.team.list(org="acme"))]
    result["created_team"] = plain(org.team.create(name="gamma", description="Team Gamma", org="acme"))
    result["team_info"] = plain(org.team.info(name="gamma", org="acme"))
    result["teams_after"] = [team["name"] for team in plain(org.team.list(org="acme"))]
    result["org_users"] = [user["email"] for user in plain(flatten_pages(users.list(org="acme")))]
    result["alpha_users"] = [user["email"] for user in plain(flatten_pages(users.list(org="acme", team="alpha")))]
    # An existing org member joins team beta, by numeric id as `ngc team add-user <id>` does.
    users.add_to_team(user_id=args["member_id"], roles=["REGISTRY_READ"], org="acme", team="beta")
    result["member_after"] = plain(users.info(user_id=str(args["member_id"]), org="acme", team="beta"))
    # A new person is invited to team alpha, as `ngc team add-user <email>` does.
    result["invited"] = plain(
        users.create(email=args["invitee"], name="New Comer", roles=["REGISTRY_USER"], org="acme", team="alpha")
    )
    result["pending"] = plain(flatten_pages(users.list_invitations(org="acme", team="alpha")))
    return result


def configure_only(args: dict) -> dict:
    from ngcsdk import Client

    client = Client()
    client.configure(api_key=args["key"], org_name=args.get("org", "acme"), team_name=args.get("team"))
    return {"configured": True, "teams": [team["name"] for team in plain(client.organization.team.list(org="acme"))]}


def reader(args: dict) -> dict:
    """A read-only team member: listing works, creating a team is refused by the server."""
    from ngcsdk import Client

    client = Client()
    client.configure(api_key=args["key"], org_name="acme", team_name="alpha")
    result = {"teams": [team["name"] for team in plain(client.organization.team.list(org="acme"))]}
    try:
        client.organization.team.create(name="delta", description="", org="acme")
        result["create"] = "allowed"
    except Exception as exc:  # the SDK's own error type is what the test asserts on
        result["create"] = {"type": type(exc).__name__, "message": str(exc)}
    return result


SCENARIOS = {"admin": admin, "configure": configure_only, "reader": reader}


def main() -> None:
    scenario, raw = sys.argv[1], sys.argv[2]
    try:
        output = {"ok": True, "result": SCENARIOS[scenario](json.loads(raw))}
    except Exception as exc:  # reported to the test, which asserts on the SDK's error
        output = {
            "ok": False, "error_type": type(exc).__name__,
            "error_module": type(exc).__module__, "error": str(exc), "traceback": traceback.format_exc(),
        }
    print(json.dumps(output, default=str))


if __name__ == "__main__":
    main()
