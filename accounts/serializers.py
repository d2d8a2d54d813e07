"""Input and output shapes of the NGC API's identity endpoints (reference/ngc-api.md §4, §5.1).

Output serializers only rename and format; what a caller may see was decided by the selectors.
Dates are ISO-8601 UTC with milliseconds ("2026-01-01T00:00:00.000Z"), as NVIDIA's client expects.
"""
from datetime import datetime, timezone as dt_timezone

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.roles import ROLE_ALIASES, ROLE_SERVICE_ACCESS, Role


def ngc_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(dt_timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class NgcDateTimeField(serializers.DateTimeField):
    def to_representation(self, value):
        return ngc_datetime(value)


# --- output --------------------------------------------------------------------------------


class OrgOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    displayName = serializers.CharField(source="display_name")
    description = serializers.CharField()
    type = serializers.SerializerMethodField()

    def get_type(self, org) -> str:
        return "ENTERPRISE"


class TeamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    isDeleted = serializers.SerializerMethodField()

    def get_isDeleted(self, team) -> bool:  # noqa: N802 (NGC's field name)
        return False


class RoleOrgRef(serializers.Serializer):
    name = serializers.CharField()
    displayName = serializers.CharField()


class RoleTeamRef(serializers.Serializer):
    name = serializers.CharField()


class UserRoleEntry(serializers.Serializer):
    org = RoleOrgRef()
    team = RoleTeamRef(required=False)
    orgRoles = serializers.ListField(child=serializers.CharField())
    teamRoles = serializers.ListField(child=serializers.CharField())


def role_entries(bindings) -> list[dict]:
    """Group role bindings into NGC's `roles[]`: one entry per org (org roles) and per team (team roles)."""
    entries: dict[tuple, dict] = {}
    for binding in bindings:
        key = (binding.org.name, binding.team.name if binding.team_id else None)
        entry = entries.get(key)
        if entry is None:
            entry = {"org": {"name": binding.org.name, "displayName": binding.org.display_name}, "orgRoles": [], "teamRoles": []}
            if binding.team_id:
                entry["team"] = {"name": binding.team.name}
            entries[key] = entry
        entry["teamRoles" if binding.team_id else "orgRoles"].append(binding.role)
    return [entries[key] for key in sorted(entries, key=lambda k: (k[0], k[1] or ""))]


class UserOutput(serializers.Serializer):
    """A user with `roles[]` built from the `shown_bindings` the selector prefetched."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    starfleetId = serializers.CharField(source="starfleet_id")
    createdDate = NgcDateTimeField(source="date_joined")
    roles = serializers.SerializerMethodField()

    @extend_schema_field(UserRoleEntry(many=True))
    def get_roles(self, user) -> list[UserRoleEntry]:
        return role_entries(getattr(user, "shown_bindings", []))


class InvitationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    userEmail = serializers.EmailField(source="email")
    userName = serializers.CharField(source="name")
    userRoles = serializers.SerializerMethodField()
    orgName = serializers.CharField(source="org.name")
    teamName = serializers.SerializerMethodField()
    createdDate = NgcDateTimeField(source="created_at")
    expirationDate = NgcDateTimeField(source="expires_at")

    def get_userRoles(self, invitation) -> list[str]:  # noqa: N802
        return sorted(set(invitation.org_roles) | set(invitation.team_roles))

    def get_teamName(self, invitation) -> str:  # noqa: N802
        return invitation.team.name if invitation.team_id else ""


def role_definitions() -> list[dict]:
    """`/roles`: our roles and the legacy alias names NVIDIA's client may validate `--role` against,
    each with the services and actions it allows (from accounts.roles.ROLE_SERVICE_ACCESS)."""

    def allowed(role: str) -> list[dict]:
        return [
            {"service": service, "actions": sorted(actions)}
            for service, actions in sorted(ROLE_SERVICE_ACCESS[role].items())
        ]

    result = [{"name": role.value, "displayName": role.label, "allowedActions": allowed(role)} for role in Role]
    for alias, role in sorted(ROLE_ALIASES.items()):
        result.append(
            {"name": alias, "displayName": f"{Role(role).label} (legacy name)", "allowedActions": allowed(role)}
        )
    return result


class RoleDefinitionOutput(serializers.Serializer):
    name = serializers.CharField()
    displayName = serializers.CharField()
    allowedActions = serializers.ListField(child=serializers.DictField())


# --- input ---------------------------------------------------------------------------------


class TeamCreateInput(serializers.Serializer):
    # Left to the service to judge (its message names the naming rule).
    name = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class TeamUpdateInput(serializers.Serializer):
    description = serializers.CharField(allow_blank=True)


class InvitationRoleInput(serializers.Serializer):
    name = serializers.CharField()
    resourceGroups = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class InvitationCreateInput(serializers.Serializer):
    """NVIDIA's client's invitation body: roles without `resourceGroups` are org roles, roles
    with `resourceGroups: [team]` are roles in that team."""

    email = serializers.EmailField()
    name = serializers.CharField(required=False, allow_blank=True, default="")
    message = serializers.CharField(required=False, allow_blank=True, default="")
    invitationExpirationIn = serializers.IntegerField(required=False, min_value=1, help_text="minutes")
    roles = InvitationRoleInput(many=True)

    def validate_roles(self, roles):
        teams = {team for role in roles for team in role["resourceGroups"]}
        if len(teams) > 1:
            raise serializers.ValidationError("An invitation may name one team; send one invitation per team.")
        if not roles:
            raise serializers.ValidationError("Assign at least one role.")
        return roles


class InvitationDeleteInput(serializers.Serializer):
    email = serializers.EmailField()
