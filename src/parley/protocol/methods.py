"""Every client request method of the 0.120 protocol: its params and result types and its gate.

The table is the `ClientRequest` union of the vendored schema, in the schema's order (the order
the reference lists methods in its ``unknown variant`` error), checked against the schema by
the tests. `EXPERIMENTAL_METHODS` are the methods the reference marks ``#[experimental(...)]``:
a client must have sent ``capabilities.experimentalApi: true`` to call them.
`EXPERIMENTAL_FIELDS` are stable methods' params fields gated the same way
(``<descriptor> requires experimentalApi capability``).

This module does not dispatch anything and holds no handler; it only describes the surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class ClientMethod:
    """One client request method.

    `params` and `result` name definitions of the schema bundle, which are also the names of
    the generated types in `parley.protocol.models`. `params` is None for the methods whose
    params the reference declares as ``null`` (no params object is needed).
    """

    name: str
    params: str | None
    result: str
    experimental: bool = False


@dataclass(frozen=True, slots=True)
class ExperimentalField:
    """A params field of a stable method that only experimental clients may set."""

    type_name: str
    field_name: str
    descriptor: str


def _m(name: str, params: str | None, result: str, *, experimental: bool = False) -> ClientMethod:
    return ClientMethod(name, params, result, experimental)


CLIENT_METHODS: Final[tuple[ClientMethod, ...]] = (
    _m("initialize", "InitializeParams", "InitializeResponse"),
    _m("thread/start", "ThreadStartParams", "ThreadStartResponse"),
    _m("thread/resume", "ThreadResumeParams", "ThreadResumeResponse"),
    _m("thread/fork", "ThreadForkParams", "ThreadForkResponse"),
    _m("thread/archive", "ThreadArchiveParams", "ThreadArchiveResponse"),
    _m("thread/unsubscribe", "ThreadUnsubscribeParams", "ThreadUnsubscribeResponse"),
    _m(
        "thread/increment_elicitation",
        "ThreadIncrementElicitationParams",
        "ThreadIncrementElicitationResponse",
        experimental=True,
    ),
    _m(
        "thread/decrement_elicitation",
        "ThreadDecrementElicitationParams",
        "ThreadDecrementElicitationResponse",
        experimental=True,
    ),
    _m("thread/name/set", "ThreadSetNameParams", "ThreadSetNameResponse"),
    _m("thread/metadata/update", "ThreadMetadataUpdateParams", "ThreadMetadataUpdateResponse"),
    _m("thread/unarchive", "ThreadUnarchiveParams", "ThreadUnarchiveResponse"),
    _m("thread/compact/start", "ThreadCompactStartParams", "ThreadCompactStartResponse"),
    _m("thread/shellCommand", "ThreadShellCommandParams", "ThreadShellCommandResponse"),
    _m(
        "thread/backgroundTerminals/clean",
        "ThreadBackgroundTerminalsCleanParams",
        "ThreadBackgroundTerminalsCleanResponse",
        experimental=True,
    ),
    _m("thread/rollback", "ThreadRollbackParams", "ThreadRollbackResponse"),
    _m("thread/list", "ThreadListParams", "ThreadListResponse"),
    _m("thread/loaded/list", "ThreadLoadedListParams", "ThreadLoadedListResponse"),
    _m("thread/read", "ThreadReadParams", "ThreadReadResponse"),
    _m("skills/list", "SkillsListParams", "SkillsListResponse"),
    _m("plugin/list", "PluginListParams", "PluginListResponse"),
    _m("plugin/read", "PluginReadParams", "PluginReadResponse"),
    _m("app/list", "AppsListParams", "AppsListResponse"),
    _m("fs/readFile", "FsReadFileParams", "FsReadFileResponse"),
    _m("fs/writeFile", "FsWriteFileParams", "FsWriteFileResponse"),
    _m("fs/createDirectory", "FsCreateDirectoryParams", "FsCreateDirectoryResponse"),
    _m("fs/getMetadata", "FsGetMetadataParams", "FsGetMetadataResponse"),
    _m("fs/readDirectory", "FsReadDirectoryParams", "FsReadDirectoryResponse"),
    _m("fs/remove", "FsRemoveParams", "FsRemoveResponse"),
    _m("fs/copy", "FsCopyParams", "FsCopyResponse"),
    _m("fs/watch", "FsWatchParams", "FsWatchResponse"),
    _m("fs/unwatch", "FsUnwatchParams", "FsUnwatchResponse"),
    _m("skills/config/write", "SkillsConfigWriteParams", "SkillsConfigWriteResponse"),
    _m("plugin/install", "PluginInstallParams", "PluginInstallResponse"),
    _m("plugin/uninstall", "PluginUninstallParams", "PluginUninstallResponse"),
    _m("turn/start", "TurnStartParams", "TurnStartResponse"),
    _m("turn/steer", "TurnSteerParams", "TurnSteerResponse"),
    _m("turn/interrupt", "TurnInterruptParams", "TurnInterruptResponse"),
    _m(
        "thread/realtime/start",
        "ThreadRealtimeStartParams",
        "ThreadRealtimeStartResponse",
        experimental=True,
    ),
    _m(
        "thread/realtime/appendAudio",
        "ThreadRealtimeAppendAudioParams",
        "ThreadRealtimeAppendAudioResponse",
        experimental=True,
    ),
    _m(
        "thread/realtime/appendText",
        "ThreadRealtimeAppendTextParams",
        "ThreadRealtimeAppendTextResponse",
        experimental=True,
    ),
    _m(
        "thread/realtime/stop",
        "ThreadRealtimeStopParams",
        "ThreadRealtimeStopResponse",
        experimental=True,
    ),
    _m(
        "thread/realtime/listVoices",
        "ThreadRealtimeListVoicesParams",
        "ThreadRealtimeListVoicesResponse",
        experimental=True,
    ),
    _m("review/start", "ReviewStartParams", "ReviewStartResponse"),
    _m("model/list", "ModelListParams", "ModelListResponse"),
    _m(
        "experimentalFeature/list",
        "ExperimentalFeatureListParams",
        "ExperimentalFeatureListResponse",
    ),
    _m(
        "experimentalFeature/enablement/set",
        "ExperimentalFeatureEnablementSetParams",
        "ExperimentalFeatureEnablementSetResponse",
    ),
    _m(
        "collaborationMode/list",
        "CollaborationModeListParams",
        "CollaborationModeListResponse",
        experimental=True,
    ),
    _m(
        "mock/experimentalMethod",
        "MockExperimentalMethodParams",
        "MockExperimentalMethodResponse",
        experimental=True,
    ),
    _m("mcpServer/oauth/login", "McpServerOauthLoginParams", "McpServerOauthLoginResponse"),
    _m("config/mcpServer/reload", None, "McpServerRefreshResponse"),
    _m("mcpServerStatus/list", "ListMcpServerStatusParams", "ListMcpServerStatusResponse"),
    _m("mcpServer/resource/read", "McpResourceReadParams", "McpResourceReadResponse"),
    _m(
        "windowsSandbox/setupStart",
        "WindowsSandboxSetupStartParams",
        "WindowsSandboxSetupStartResponse",
    ),
    _m("account/login/start", "LoginAccountParams", "LoginAccountResponse"),
    _m("account/login/cancel", "CancelLoginAccountParams", "CancelLoginAccountResponse"),
    _m("account/logout", None, "LogoutAccountResponse"),
    _m("account/rateLimits/read", None, "GetAccountRateLimitsResponse"),
    _m("feedback/upload", "FeedbackUploadParams", "FeedbackUploadResponse"),
    _m("command/exec", "CommandExecParams", "CommandExecResponse"),
    _m("command/exec/write", "CommandExecWriteParams", "CommandExecWriteResponse"),
    _m("command/exec/terminate", "CommandExecTerminateParams", "CommandExecTerminateResponse"),
    _m("command/exec/resize", "CommandExecResizeParams", "CommandExecResizeResponse"),
    _m("config/read", "ConfigReadParams", "ConfigReadResponse"),
    _m(
        "externalAgentConfig/detect",
        "ExternalAgentConfigDetectParams",
        "ExternalAgentConfigDetectResponse",
    ),
    _m(
        "externalAgentConfig/import",
        "ExternalAgentConfigImportParams",
        "ExternalAgentConfigImportResponse",
    ),
    _m("config/value/write", "ConfigValueWriteParams", "ConfigWriteResponse"),
    _m("config/batchWrite", "ConfigBatchWriteParams", "ConfigWriteResponse"),
    _m("configRequirements/read", None, "ConfigRequirementsReadResponse"),
    _m("account/read", "GetAccountParams", "GetAccountResponse"),
    _m("fuzzyFileSearch", "FuzzyFileSearchParams", "FuzzyFileSearchResponse"),
    _m(
        "fuzzyFileSearch/sessionStart",
        "FuzzyFileSearchSessionStartParams",
        "FuzzyFileSearchSessionStartResponse",
        experimental=True,
    ),
    _m(
        "fuzzyFileSearch/sessionUpdate",
        "FuzzyFileSearchSessionUpdateParams",
        "FuzzyFileSearchSessionUpdateResponse",
        experimental=True,
    ),
    _m(
        "fuzzyFileSearch/sessionStop",
        "FuzzyFileSearchSessionStopParams",
        "FuzzyFileSearchSessionStopResponse",
        experimental=True,
    ),
)

BY_NAME: Final[dict[str, ClientMethod]] = {method.name: method for method in CLIENT_METHODS}

ALL_CLIENT_METHODS: Final[tuple[str, ...]] = tuple(method.name for method in CLIENT_METHODS)

EXPERIMENTAL_METHODS: Final[frozenset[str]] = frozenset(
    method.name for method in CLIENT_METHODS if method.experimental
)

# Fields the reference marks `#[experimental("<descriptor>")]` on otherwise stable params
# (reference source of the 0.120 era, limited to fields present in the 0.120 schema). Note the
# descriptor is not always `<method>.<field>`: `persistExtendedHistory` reports as
# `persistFullHistory`.
EXPERIMENTAL_FIELDS: Final[tuple[ExperimentalField, ...]] = (
    ExperimentalField("ThreadStartParams", "dynamicTools", "thread/start.dynamicTools"),
    ExperimentalField(
        "ThreadStartParams", "mockExperimentalField", "thread/start.mockExperimentalField"
    ),
    ExperimentalField(
        "ThreadStartParams", "experimentalRawEvents", "thread/start.experimentalRawEvents"
    ),
    ExperimentalField(
        "ThreadStartParams", "persistExtendedHistory", "thread/start.persistFullHistory"
    ),
    ExperimentalField("ThreadResumeParams", "history", "thread/resume.history"),
    ExperimentalField("ThreadResumeParams", "path", "thread/resume.path"),
    ExperimentalField(
        "ThreadResumeParams", "persistExtendedHistory", "thread/resume.persistFullHistory"
    ),
    ExperimentalField("ThreadForkParams", "path", "thread/fork.path"),
    ExperimentalField(
        "ThreadForkParams", "persistExtendedHistory", "thread/fork.persistFullHistory"
    ),
    ExperimentalField("TurnStartParams", "collaborationMode", "turn/start.collaborationMode"),
    ExperimentalField(
        "TurnStartParams",
        "responsesapiClientMetadata",
        "turn/start.responsesapiClientMetadata",
    ),
    ExperimentalField(
        "TurnSteerParams",
        "responsesapiClientMetadata",
        "turn/steer.responsesapiClientMetadata",
    ),
)


def experimental_fields_of(type_name: str) -> tuple[ExperimentalField, ...]:
    """The gated fields of one params type (empty for most types)."""
    return tuple(field for field in EXPERIMENTAL_FIELDS if field.type_name == type_name)


def experimental_reason(method: str, params: object) -> str | None:
    """Why a request needs ``experimentalApi``, as the reference names it, or None if it doesn't.

    The method itself if it is experimental; otherwise the descriptor of the first gated field
    the request *uses*. Like the reference, a field counts as used when it is present with a
    value other than ``null`` or ``false`` (``"dynamicTools": []`` is a use). The error message
    the reference sends is ``f"{reason} requires experimentalApi capability"``.
    """
    if method in EXPERIMENTAL_METHODS:
        return method
    entry = BY_NAME.get(method)
    if entry is None or entry.params is None or not isinstance(params, dict):
        return None
    for field in experimental_fields_of(entry.params):
        value = params.get(field.field_name)
        if value is not None and value is not False:
            return field.descriptor
    # An experimental variant of a stable field: the granular approval policy.
    approval = params.get("approvalPolicy")
    if isinstance(approval, dict) and "granular" in approval:
        return "askForApproval.granular"
    return None
