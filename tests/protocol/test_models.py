"""The generated models: complete, lenient about extra fields, and current with the schema."""

from __future__ import annotations

import inspect
import os
import subprocess
from pathlib import Path

from pydantic import TypeAdapter

from parley.protocol import models
from parley.protocol.wire import WireModel

ROOT = Path(__file__).resolve().parents[2]


def generated_classes() -> list[type[WireModel]]:
    return [
        obj
        for obj in vars(models).values()
        if inspect.isclass(obj) and issubclass(obj, WireModel) and obj.__module__ == models.__name__
    ]


def test_every_model_builds() -> None:
    """All generated models resolve their references (they are built lazily in normal use)."""
    classes = generated_classes()
    assert len(classes) > 500
    for cls in classes:
        assert cls.model_rebuild(force=True) is not False, cls.__name__


def test_no_model_forbids_unknown_fields() -> None:
    """No model rejects fields it does not know, so newer clients' extras pass."""
    for cls in generated_classes():
        assert cls.model_config.get("extra") in (None, "ignore"), cls.__name__


def test_thread_keeps_working_with_extra_session_id() -> None:
    """A thread object with Parley's extra `sessionId` still reads as a Thread."""
    thread = models.Thread.model_validate(
        {
            "id": "t",
            "preview": "",
            "ephemeral": False,
            "modelProvider": "mock_provider",
            "createdAt": 1,
            "updatedAt": 1,
            "status": {"type": "idle"},
            "cwd": "/",
            "cliVersion": "0.120.0",
            "source": "vscode",
            "turns": [],
            "sessionId": "t",
        }
    )
    assert thread.model_provider == "mock_provider"


def test_notifications_are_picked_by_method() -> None:
    """A server notification is read into the variant its `method` names."""
    adapter: TypeAdapter[object] = TypeAdapter(models.ServerNotification)
    note = adapter.validate_python(
        {"method": "thread/realtime/closed", "params": {"threadId": "t", "reason": "requested"}}
    )
    assert isinstance(note, models.ThreadRealtimeClosedNotificationMessage)
    assert note.params.reason == "requested"


def test_models_module_is_generated_from_the_vendored_schema(tmp_path: Path) -> None:
    """models.py is exactly what scripts/generate_models.sh produces (nobody edited it by hand)."""
    out = tmp_path / "models.py"
    env = {**os.environ, "PARLEY_MODELS_OUT": str(out)}
    subprocess.run(
        [str(ROOT / "scripts" / "generate_models.sh")],
        check=True,
        env=env,
        capture_output=True,
        timeout=120,
    )
    current = (ROOT / "src" / "parley" / "protocol" / "models.py").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == current
