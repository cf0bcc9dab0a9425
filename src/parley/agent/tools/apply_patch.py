"""`apply_patch`: the model edits files with a patch, shown to the client as a `fileChange` item.

The model can call it three ways, all handled here: the `apply_patch` function tool (JSON
`{"input": PATCH}`), the freeform `apply_patch` custom tool (the raw patch), or a
`shell_command` whose script is `apply_patch <<'EOF' … EOF` (the shell tool hands those over,
see `shell_invocation`).

One call: parse and plan the patch (a malformed one is reported to the model, no item), show the
`fileChange` item (inProgress, with every file's diff), decide (see `decide_patch`): ask the
client with `item/fileChange/requestApproval`, refuse, or go ahead; then write the files,
stream the summary as `item/fileChange/outputDelta`, and complete the item (completed / failed /
declined). Parley writes the files itself, so the sandbox is enforced by path: without the
user's explicit approval, a patch may only touch files under the sandbox's writable roots (and
never inside their protected metadata directories such as `.git`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from parley.agent.approval import ApprovalPolicy, Decision, parse_decision
from parley.agent.patch_grammar import (
    FileChange,
    PatchError,
    parse_patch,
    plan_changes,
    summary,
    write_changes,
)
from parley.agent.tools.base import CallOutcome, ToolCall, ToolContext
from parley.agent.tools.confined_files import ConfinedFiles
from parley.tools.sandbox import PROTECTED_SUBDIRS, SandboxPolicy

log = logging.getLogger(__name__)

TOOL_NAME = "apply_patch"
APPROVAL_METHOD = "item/fileChange/requestApproval"
DECLINED_OUTPUT = "the user declined this patch; no file was changed"
FREEFORM_FEATURE = "apply_patch_freeform"

DESCRIPTION = (
    "Edit files with a patch. The patch starts with `*** Begin Patch` and ends with "
    "`*** End Patch`; in between, one section per file:\n"
    "`*** Add File: PATH` then the new file's lines, each prefixed with `+`;\n"
    "`*** Delete File: PATH`;\n"
    "`*** Update File: PATH` (optionally followed by `*** Move to: NEW_PATH`), then one or more "
    "change sections. A change section may start with `@@` or `@@ LINE` (LINE: a line just "
    "above the change, such as a function signature, used to find the place) and lists lines "
    "prefixed with ` ` (unchanged context, about three lines around each change), `-` "
    "(removed) or `+` (added). End a section with `*** End of File` when it changes the end of "
    "the file.\n"
    "Paths are relative to the working directory (absolute paths also work). Use this tool, "
    "not shell commands, to create, change or delete files."
)

# A Lark grammar for the freeform variant: the model's output is constrained to a patch.
PATCH_LARK_GRAMMAR = r"""
start: begin_patch section+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

section: add_section | delete_section | update_section
add_section: "*** Add File: " path LF added_line*
delete_section: "*** Delete File: " path LF
update_section: "*** Update File: " path LF move_line? change*

move_line: "*** Move to: " path LF
change: anchor? (diff_line)+ end_of_file?
anchor: ("@@" | "@@ " /(.+)/) LF
diff_line: (" " | "-" | "+") /(.*)/ LF
added_line: "+" /(.*)/ LF
end_of_file: "*** End of File" LF

path: /(.+)/
%import common.LF
"""


def function_spec() -> dict[str, Any]:
    return {
        "type": "function",
        "name": TOOL_NAME,
        "description": DESCRIPTION,
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {"input": {"type": "string", "description": "The whole patch text."}},
            "required": ["input"],
            "additionalProperties": False,
        },
    }


def freeform_spec() -> dict[str, Any]:
    return {
        "type": "custom",
        "name": TOOL_NAME,
        "description": DESCRIPTION,
        "format": {"type": "grammar", "syntax": "lark", "definition": PATCH_LARK_GRAMMAR},
    }


_SHELL_FORM = re.compile(
    r"""^\s*(?:cd\s+(?P<dir>'[^']*'|"[^"]*"|\S+)\s*&&\s*)?(?:apply_patch|applypatch)\s*"""
    r"""<<\s*(?P<q>['"]?)(?P<tag>\w+)(?P=q)[ \t]*\n(?P<body>.*?)\n(?P=tag)[ \t]*\n?\s*$""",
    re.DOTALL,
)


@dataclass(frozen=True)
class ShellPatch:
    patch: str
    workdir: str | None


def shell_invocation(script: str) -> ShellPatch | None:
    """The patch a shell script applies with `apply_patch <<'EOF'`, or None for other scripts."""
    match = _SHELL_FORM.match(script)
    if match is None:
        return None
    workdir = match.group("dir")
    if workdir is not None:
        workdir = workdir.strip("'\"")
    return ShellPatch(match.group("body"), workdir)


# ---- the policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PatchDecision:
    ask: bool  # ask the client first
    refusal: str | None = None  # refuse outright with this reason


def decide_patch(
    policy: ApprovalPolicy,
    *,
    within_writable_roots: bool,
    approved_for_session: bool,
) -> PatchDecision:
    """Whether a patch needs the user's approval, may go ahead, or must be refused.

    `untrusted` asks for every patch the user has not already allowed for the session. The
    other policies let a patch that stays inside the writable roots go ahead; one that reaches
    outside them is asked about (`on-request`, `on-failure`) or refused (`never`)."""
    if approved_for_session:
        return PatchDecision(ask=False)
    if policy is ApprovalPolicy.UNTRUSTED:
        return PatchDecision(ask=True)
    if within_writable_roots:
        return PatchDecision(ask=False)
    if policy is ApprovalPolicy.NEVER:
        return PatchDecision(
            ask=False,
            refusal="the patch writes outside the sandbox's writable directories, and the "
            "approval policy `never` does not allow asking the user",
        )
    return PatchDecision(ask=True)


def _real(path: Path) -> Path:
    """The path with symlinks in its existing part resolved (so a link cannot lead outside)."""
    return Path(os.path.realpath(path))


def writable(sandbox: SandboxPolicy, path: Path) -> bool:
    """May a confined write touch `path`?"""
    if not sandbox.confined:
        return True
    real = _real(path)
    for root in sandbox.writable_roots:
        root = _real(root)
        if real == root or root in real.parents:
            inside = real.relative_to(root).parts
            return not (inside and inside[0] in PROTECTED_SUBDIRS)
    return False


# ---- the tool --------------------------------------------------------------------------


def _item(call_id: str, changes: list[FileChange], status: str) -> dict[str, Any]:
    return {
        "type": "fileChange",
        "id": call_id,
        "changes": [change.wire() for change in changes],
        "status": status,
    }


class ApplyPatchTool:
    name = TOOL_NAME

    def __init__(self, context: ToolContext, *, freeform: bool = False) -> None:
        self._ctx = context
        self._freeform = freeform

    def spec(self) -> dict[str, Any] | None:
        return freeform_spec() if self._freeform else function_spec()

    async def run(self, call: ToolCall) -> CallOutcome:
        if call.custom:
            return await self.apply(call.call_id, call.arguments)
        try:
            arguments = orjson.loads(call.arguments or "{}")
        except orjson.JSONDecodeError as exc:
            return CallOutcome(f"apply_patch arguments are not valid JSON: {exc}")
        patch = arguments.get("input") if isinstance(arguments, dict) else None
        if not isinstance(patch, str):
            return CallOutcome("apply_patch needs `input`: the patch text")
        return await self.apply(call.call_id, patch)

    async def apply(self, call_id: str, patch: str, workdir: str | None = None) -> CallOutcome:
        cwd = self._ctx.settings.cwd
        if workdir:
            cwd = Path(workdir) if Path(workdir).is_absolute() else cwd / workdir
        try:
            changes = await asyncio.to_thread(plan_changes, parse_patch(patch), cwd)
        except PatchError as exc:
            return CallOutcome(f"apply_patch failed, no file was changed: {exc}")
        notifier = self._ctx.notifier
        notifier.item_started(_item(call_id, changes, "inProgress"))
        try:
            return await self._decide_and_write(call_id, changes, cwd)
        except asyncio.CancelledError:
            notifier.item_completed(_item(call_id, changes, "failed"))
            raise

    async def _decide_and_write(
        self, call_id: str, changes: list[FileChange], cwd: Path
    ) -> CallOutcome:
        ctx = self._ctx
        paths = {path for change in changes for path in change.touched}
        within = all(writable(ctx.sandbox, path) for path in paths)
        decision = decide_patch(
            ctx.approval_policy,
            within_writable_roots=within,
            approved_for_session=paths <= ctx.grants.patch_paths,
        )
        if decision.refusal is not None:
            ctx.notifier.item_completed(_item(call_id, changes, "declined"))
            return CallOutcome(f"patch refused: {decision.refusal}; no file was changed")
        if decision.ask:
            reason = None if within else "the patch writes outside the writable directories"
            answer = await self._ask(call_id, reason)
            if not answer.approved:
                ctx.notifier.item_completed(_item(call_id, changes, "declined"))
                return CallOutcome(DECLINED_OUTPUT, cancel_turn=answer is Decision.CANCEL)
            if answer is Decision.ACCEPT_FOR_SESSION:
                ctx.grants.patch_paths |= paths
        # Inside the roots, the write itself is confined too (a symlink appearing meanwhile
        # cannot lead it out); paths the user approved are written where they lead.
        files = (
            ConfinedFiles(ctx.sandbox.writable_roots, frozenset(PROTECTED_SUBDIRS))
            if ctx.sandbox.confined and within
            else None
        )
        report = await asyncio.to_thread(write_changes, changes, files)
        text = summary(report.done, cwd) if report.done else ""
        if report.error is not None:
            text = f"{text}error: {report.error}\n"
        ctx.notifier.notify("item/fileChange/outputDelta", {"itemId": call_id, "delta": text})
        status = "completed" if report.error is None else "failed"
        ctx.notifier.item_completed(_item(call_id, changes, status))
        if report.error is not None:
            return CallOutcome(f"apply_patch stopped: {report.error}\nChanged before that:\n{text}")
        return CallOutcome(f"Patch applied. Changed files:\n{text}")

    async def _ask(self, call_id: str, reason: str | None) -> Decision:
        ctx = self._ctx
        params = {
            "threadId": ctx.channel.thread_id,
            "turnId": ctx.channel.turn_id,
            "itemId": call_id,
            "reason": reason,
            "grantRoot": None,
        }
        try:
            response = await ctx.channel.request_client(APPROVAL_METHOD, params)
        except Exception as exc:  # no client, or an error answer: the patch is not applied
            log.info("file change approval for %s failed (%s); declining", call_id, exc)
            return Decision.DECLINE
        return parse_decision(response)
