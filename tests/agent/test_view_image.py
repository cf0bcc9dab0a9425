"""view_image through the real app-server: the image reaches the model, the client sees it."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
from support.agent_steps import create_config_toml, start_turn, wait_for_item
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer, create_final_assistant_message_sse_response
from support.sse import ev_completed, ev_function_call, ev_response_created, sse

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def test_view_image_attaches_the_picture_and_shows_an_image_view_item(
    tmp_path: Path,
    codex_home: Path,
    responses_server: MockResponsesServer,
    spawn_app_server: SpawnAppServer,
) -> None:
    """The model's view_image call shows an imageView item and sends the pixels back."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "dot.png").write_bytes(PNG)
    arguments = orjson.dumps({"path": "dot.png"}).decode()
    responses_server.push(
        sse(
            [
                ev_response_created("r"),
                ev_function_call("v1", "view_image", arguments),
                ev_completed("r"),
            ]
        ),
        create_final_assistant_message_sse_response("a dot"),
    )
    create_config_toml(codex_home, responses_server.uri)
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"cwd": str(workspace)})
    await start_turn(mcp, thread["id"], "look")
    item = await wait_for_item(mcp, "item/completed", "imageView")
    assert item == {"type": "imageView", "id": "v1", "path": str(workspace / "dot.png")}
    await mcp.read_notification("turn/completed")
    body = responses_server.responses_requests()[1]
    output = next(i["output"] for i in body["input"] if i.get("type") == "function_call_output")
    expected = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert output == [{"type": "input_image", "image_url": expected}]
