"""command/exec, command/exec/write, command/exec/resize, command/exec/terminate.

`command/exec` answers when the command exits (a `DeferredReply`), so the connection keeps
serving the write/resize/terminate requests that steer it meanwhile. Streamed output goes to the
requesting connection only, as `command/exec/outputDelta`, always before the final answer.
When the connection closes, every command it started is killed with its whole process tree.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import InvalidParams
from parley.server.connection_state import ConnectionState
from parley.server.deferred import DeferredReply
from parley.services.command_exec import (
    CommandExecProcesses,
    ExecResult,
    ExecSpec,
    OutputStream,
    RunningCommand,
    decode_base64,
    terminal_size,
)

if TYPE_CHECKING:
    from parley.server.session import ClientSession

_PROCESSES: ConnectionState[CommandExecProcesses] = ConnectionState(
    CommandExecProcesses, CommandExecProcesses.terminate_all
)


async def command_exec(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.CommandExecParams, raw)
    spec = ExecSpec.from_params(
        params,
        server_cwd=Path.cwd(),
        sandbox_mode=session.server.config.sandbox_mode,
        environment_policy=session.server.config.shell_environment_policy,
    )
    processes = _PROCESSES.get(session)
    client_id = spec.process_id

    def on_output(stream: OutputStream, chunk: bytes, cap_reached: bool) -> None:
        session.notify(
            "command/exec/outputDelta",
            {
                "processId": client_id,
                "stream": stream.value,
                "deltaBase64": base64.b64encode(chunk).decode("ascii"),
                "capReached": cap_reached,
            },
        )

    command = RunningCommand(spec, on_output)
    key: str | int = client_id if client_id is not None else processes.internal_id()
    processes.claim(key, command)
    try:
        await command.start()
    except BaseException:
        processes.release(key, command)
        raise

    async def finish() -> dict[str, Any]:
        try:
            result: ExecResult = await command.wait()
        finally:
            processes.release(key, command)
        return {"exitCode": result.exit_code, "stdout": result.stdout, "stderr": result.stderr}

    return DeferredReply(finish())


async def command_exec_write(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.CommandExecWriteParams, raw)
    if params.delta_base64 is None and not params.close_stdin:
        raise InvalidParams("command/exec/write requires deltaBase64 or closeStdin")
    data = decode_base64(params.delta_base64, "deltaBase64") if params.delta_base64 else b""
    command = _PROCESSES.get(session).get(params.process_id)
    await command.write(data, bool(params.close_stdin))
    return {}


async def command_exec_resize(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.CommandExecResizeParams, raw)
    rows, cols = terminal_size(params.size)
    _PROCESSES.get(session).get(params.process_id).resize(rows, cols)
    return {}


async def command_exec_terminate(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.CommandExecTerminateParams, raw)
    _PROCESSES.get(session).get(params.process_id).terminate()
    return {}
