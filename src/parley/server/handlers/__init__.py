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
from parley.server.handlers.config import (
    config_batch_write,
    config_read,
    config_requirements_read,
    config_value_write,
    experimental_feature_enablement_set,
    experimental_feature_list,
    mock_experimental_method,
)
from parley.server.handlers.models import collaboration_mode_list, model_list
from parley.server.handlers.realtime import (
    realtime_append_audio,
    realtime_append_text,
    realtime_list_voices,
    realtime_start,
    realtime_stop,
)
from parley.server.handlers.threads import (
    thread_archive,
    thread_list,
    thread_loaded_list,
    thread_name_set,
    thread_read,
    thread_resume,
    thread_start,
    thread_unarchive,
    thread_unsubscribe,
)
from parley.server.handlers.turns import turn_interrupt, turn_start, turn_steer

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
    "thread/name/set": thread_name_set,
    "thread/archive": thread_archive,
    "thread/unarchive": thread_unarchive,
    "thread/unsubscribe": thread_unsubscribe,
    "thread/loaded/list": thread_loaded_list,
    "account/login/cancel": login_cancel,
    "account/rateLimits/read": rate_limits_read,
    "config/read": config_read,
    "config/value/write": config_value_write,
    "config/batchWrite": config_batch_write,
    "configRequirements/read": config_requirements_read,
    "experimentalFeature/list": experimental_feature_list,
    "experimentalFeature/enablement/set": experimental_feature_enablement_set,
    "collaborationMode/list": collaboration_mode_list,
    "mock/experimentalMethod": mock_experimental_method,
}
NO_PARAMS_OK = frozenset({"account/logout", "account/rateLimits/read", "configRequirements/read"})
