"""The methods Parley serves: one module per family, one table mapping names to handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from parley.server.handlers.account import (
    account_logout,
    account_read,
    login_cancel,
    login_start,
    rate_limits_read,
)
from parley.server.handlers.apps import (
    app_list,
    thread_decrement_elicitation,
    thread_increment_elicitation,
)
from parley.server.handlers.command_exec import (
    command_exec,
    command_exec_resize,
    command_exec_terminate,
    command_exec_write,
)
from parley.server.handlers.compaction import thread_compact_start
from parley.server.handlers.config import (
    config_batch_write,
    config_read,
    config_requirements_read,
    config_value_write,
    experimental_feature_enablement_set,
    experimental_feature_list,
    mock_experimental_method,
)
from parley.server.handlers.fs import (
    fs_copy,
    fs_create_directory,
    fs_get_metadata,
    fs_read_directory,
    fs_read_file,
    fs_remove,
    fs_unwatch,
    fs_watch,
    fs_write_file,
)
from parley.server.handlers.fuzzy_search import (
    fuzzy_file_search,
    fuzzy_session_start,
    fuzzy_session_stop,
    fuzzy_session_update,
)
from parley.server.handlers.legacy import get_auth_status, get_conversation_summary
from parley.server.handlers.mcp import (
    mcp_resource_read,
    mcp_server_oauth_login,
    mcp_server_reload,
    mcp_server_status_list,
)
from parley.server.handlers.models import collaboration_mode_list, model_list
from parley.server.handlers.plugins import (
    plugin_install,
    plugin_list,
    plugin_read,
    plugin_uninstall,
)
from parley.server.handlers.realtime import (
    realtime_append_audio,
    realtime_append_text,
    realtime_list_voices,
    realtime_start,
    realtime_stop,
)
from parley.server.handlers.review import review_start
from parley.server.handlers.shell_command import thread_shell_command
from parley.server.handlers.skills import skills_config_write, skills_list
from parley.server.handlers.terminals import background_terminals_clean
from parley.server.handlers.threads import (
    thread_archive,
    thread_fork,
    thread_list,
    thread_loaded_list,
    thread_metadata_update,
    thread_name_set,
    thread_read,
    thread_resume,
    thread_rollback,
    thread_start,
    thread_unarchive,
    thread_unsubscribe,
)
from parley.server.handlers.turns import turn_interrupt, turn_start, turn_steer
from parley.server.handlers.windows_sandbox import windows_sandbox_setup_start

if TYPE_CHECKING:
    from parley.server.session import ClientSession

Handler = Callable[["ClientSession", Any], Awaitable[Any]]

HANDLERS: dict[str, Handler] = {
    "account/login/start": login_start,
    "account/read": account_read,
    "account/logout": account_logout,
    "thread/start": thread_start,
    "thread/resume": thread_resume,
    "thread/read": thread_read,
    "thread/list": thread_list,
    "turn/start": turn_start,
    "turn/steer": turn_steer,
    "turn/interrupt": turn_interrupt,
    "thread/realtime/start": realtime_start,
    "thread/realtime/appendAudio": realtime_append_audio,
    "thread/realtime/appendText": realtime_append_text,
    "thread/realtime/stop": realtime_stop,
    "thread/realtime/listVoices": realtime_list_voices,
    "model/list": model_list,
    "config/read": config_read,
    "thread/name/set": thread_name_set,
    "thread/archive": thread_archive,
    "thread/unarchive": thread_unarchive,
    "thread/unsubscribe": thread_unsubscribe,
    "thread/loaded/list": thread_loaded_list,
    "account/login/cancel": login_cancel,
    "account/rateLimits/read": rate_limits_read,
    "config/value/write": config_value_write,
    "config/batchWrite": config_batch_write,
    "configRequirements/read": config_requirements_read,
    "experimentalFeature/list": experimental_feature_list,
    "experimentalFeature/enablement/set": experimental_feature_enablement_set,
    "collaborationMode/list": collaboration_mode_list,
    "mock/experimentalMethod": mock_experimental_method,
    "thread/backgroundTerminals/clean": background_terminals_clean,
    "thread/compact/start": thread_compact_start,
    "thread/shellCommand": thread_shell_command,
    "review/start": review_start,
    "thread/fork": thread_fork,
    "thread/rollback": thread_rollback,
    "thread/metadata/update": thread_metadata_update,
    "command/exec": command_exec,
    "command/exec/write": command_exec_write,
    "command/exec/resize": command_exec_resize,
    "command/exec/terminate": command_exec_terminate,
    "fs/readFile": fs_read_file,
    "fs/writeFile": fs_write_file,
    "fs/createDirectory": fs_create_directory,
    "fs/getMetadata": fs_get_metadata,
    "fs/readDirectory": fs_read_directory,
    "fs/remove": fs_remove,
    "fs/copy": fs_copy,
    "fs/watch": fs_watch,
    "fs/unwatch": fs_unwatch,
    "fuzzyFileSearch": fuzzy_file_search,
    "fuzzyFileSearch/sessionStart": fuzzy_session_start,
    "fuzzyFileSearch/sessionUpdate": fuzzy_session_update,
    "fuzzyFileSearch/sessionStop": fuzzy_session_stop,
    "mcpServerStatus/list": mcp_server_status_list,
    "mcpServer/resource/read": mcp_resource_read,
    "config/mcpServer/reload": mcp_server_reload,
    "mcpServer/oauth/login": mcp_server_oauth_login,
    "skills/list": skills_list,
    "skills/config/write": skills_config_write,
    "plugin/list": plugin_list,
    "plugin/read": plugin_read,
    "plugin/install": plugin_install,
    "plugin/uninstall": plugin_uninstall,
    "app/list": app_list,
    "thread/increment_elicitation": thread_increment_elicitation,
    "thread/decrement_elicitation": thread_decrement_elicitation,
    "windowsSandbox/setupStart": windows_sandbox_setup_start,
    # v1-era methods the reference still serves (not in the v2 schema)
    "getAuthStatus": get_auth_status,
    "getConversationSummary": get_conversation_summary,
}
NO_PARAMS_OK = frozenset(
    {
        "account/logout",
        "account/rateLimits/read",
        "configRequirements/read",
        "config/mcpServer/reload",
    }
)
