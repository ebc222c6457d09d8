"""`make run` prints one API key per role, and still the scripts' OPERATOR_TOKEN."""

from __future__ import annotations

from types import SimpleNamespace

from chalicelib.services.keys import Role
from local.environment import Ports, stack_env
from local.stack import Stack


def test_the_banner_prints_a_key_per_role_and_the_admin_script_token() -> None:
    stack = Stack(Ports(), stack_env(Ports(), {"OPERATOR_TOKEN": "script-token"}))
    stack.processes = [SimpleNamespace(pid=pid) for pid in (11, 12, 13)]  # type: ignore[misc]
    stack.demo_phones = []
    stack.role_keys = {
        Role.ADMIN: ("local-admin", "rk_admin"),
        Role.OPERATOR: ("local-operator", "rk_operator"),
        Role.AGENT: ("local-agent", "rk_agent"),
        Role.INTEGRATION: ("local-integration", "rk_integration"),
    }
    lines = stack.banner().splitlines()
    assert any("OPERATOR_TOKEN" in line and "script-token" in line and "admin" in line for line in lines)
    for role in Role:
        [line] = [line for line in lines if f"rk_{role.value}" in line]
        assert line.split()[:2] == [role.value, f"rk_{role.value}"] and f"(local-{role.value})" in line
