"""The two v1-era methods the reference still serves beside v2: `getAuthStatus` and
`getConversationSummary`.

They are not in the v2 schema, so their params are checked here by hand, with the reference's
messages. Older clients (and some IDE extensions) still call them on start-up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.rpc.errors import ClientError, InternalError

if TYPE_CHECKING:
    from parley.server.session import ClientSession

_SUMMARY_VARIANTS = "data did not match any variant of untagged enum GetConversationSummaryParams"


def _optional_bool(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ClientError(
            f"Invalid request: `{name}`: invalid type: {type(value).__name__}, expected a boolean"
        )
    return value


async def get_auth_status(session: ClientSession, raw: Any) -> Any:
    """The login in use. Only a key the user logged in with counts (as the reference: an
    `OPENAI_API_KEY` in the environment is not a login), and only for providers that use
    OpenAI auth. The key itself is returned only when `includeToken` asks for it."""
    include_token = _optional_bool(raw, "includeToken")
    _optional_bool(raw, "refreshToken")  # an API key has nothing to refresh
    server = session.server
    requires = server.config.provider.requires_openai_auth
    key = server.auth.stored_key if requires else None
    return {
        "authMethod": "apikey" if key else None,
        "authToken": key if key and include_token else None,
        "requiresOpenaiAuth": requires,
    }


def _rfc3339_seconds(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _summary_path(session: ClientSession, raw: dict[str, Any]) -> Path:
    conversation_id = raw.get("conversationId")
    rollout_path = raw.get("rolloutPath")
    if isinstance(conversation_id, str) and rollout_path is None:
        from parley.threads.registry import parse_id

        try:
            thread_id = parse_id(conversation_id)
        except ClientError:
            raise ClientError(f"Invalid request: {_SUMMARY_VARIANTS}") from None
        found = session.server.threads.store.find(thread_id)
        if found is None:
            raise ClientError(f"no rollout found for conversation id {thread_id}")
        return found
    if isinstance(rollout_path, str) and rollout_path:
        path = Path(rollout_path)
        # A relative path is relative to CODEX_HOME, as the reference resolves it.
        return path if path.is_absolute() else session.server.config.codex_home / path
    raise ClientError(f"Invalid request: {_SUMMARY_VARIANTS}")


async def get_conversation_summary(session: ClientSession, raw: Any) -> Any:
    """A stored thread's v1 `ConversationSummary`, found by id or by rollout path."""
    from parley.protocol.params import check_paths

    check_paths(raw)
    from parley.threads.rollout import read_head
    from parley.threads.store import mtime_of

    path = _summary_path(session, raw)
    try:
        resolved = path.resolve(strict=True)
        head = read_head(resolved)
        updated = mtime_of(resolved)
    except OSError as exc:
        reason = f"failed to load conversation summary from {path}: {exc.strerror or exc}"
        # A path the client named that is not there is the client's mistake (-32600; the
        # reference answers -32603 with the same words); anything else is ours.
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            raise ClientError(reason) from None
        raise InternalError(reason) from None
    meta = head.meta
    if meta is None:
        raise InternalError(
            f"failed to load conversation summary from {path}: the file has no session metadata"
        )
    git = meta.git or None
    return {
        "summary": {
            "conversationId": meta.id,
            "path": str(resolved),
            "preview": head.first_user_message or "",
            "timestamp": meta.timestamp,
            "updatedAt": _rfc3339_seconds(updated),
            "modelProvider": meta.model_provider or session.server.config.provider.id,
            "cwd": meta.cwd,
            "cliVersion": meta.cli_version,
            "source": meta.source,
            "gitInfo": None
            if git is None
            else {
                "sha": git.get("commit_hash"),
                "branch": git.get("branch"),
                "origin_url": git.get("repository_url"),
            },
        }
    }
