"""Every curl example in docs/api.md's operator section runs, as written, against the local stack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from local.stack import ROOT
from tests.e2e.conftest import OPERATOR_TOKEN, RunningStack


def operator_examples() -> str:
    doc = (ROOT / "docs" / "api.md").read_text()
    section = doc[doc.index("## Operator API") :]
    return "\n".join(re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL))


def test_the_documented_curl_examples_run_in_order(stack: RunningStack) -> None:
    script = operator_examples()
    assert script.count("curl ") >= 20
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", "set -euo pipefail\n" + script],
        env={**os.environ, "API": stack.api, "TOKEN": OPERATOR_TOKEN, "SIM": stack.sim},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert '{"imported":1}' in result.stdout
    assert '"decisions":{"send/clear":1}' in result.stdout  # the e2e stack has no demo data: only Dana
    assert "Hi Dana, 2-for-1 pizzas from 5pm" in result.stdout
    assert '"phone":"+447700900132","erased_items":3,"suppressed":false' in result.stdout  # Fay, erased
    assert '"released_held_texts":0' in result.stdout and '"type":"note"' in result.stdout
