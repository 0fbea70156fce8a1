"""`platform/` must never shadow the standard library's `platform`, from any entry point."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECK = "import platform, uuid; assert platform.__file__.startswith(sys.base_prefix), platform.__file__; "


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-c", "import sys; " + CHECK + "import crm_platform.wsgi"],
        [sys.executable, "-c", "import sys; " + CHECK + "import crm_platform.asgi"],
        [
            sys.executable,
            "-c",
            "import sys; "
            + CHECK
            + "from crm_platform.celery import app; app.loader.import_default_modules()",
        ],
        [sys.executable, "manage.py", "shell", "-c", "import sys; " + CHECK],
        [sys.executable, "-m", "celery", "-A", "crm_platform", "report"],
    ],
    ids=["wsgi", "asgi", "celery-app", "manage.py", "celery-cli"],
)
def test_standard_platform_module_from_every_entry_point(command):
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
