"""Code review turns (`review/start`): what to review, how to ask, how to show the result.

Pure pieces. `ReviewRequest.from_target` checks a `ReviewTarget` (wire dict) and gives the
short description clients show (`commit 1234567: Title`, `changes against 'main'`, …) and the
task for the model. `REVIEW_INSTRUCTIONS` (Parley's own words) make the model answer with a JSON
report; `render_review` turns that report (or any plain answer) into the text of the
`exitedReviewMode` item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

REVIEW_INSTRUCTIONS = """\
You are reviewing code changes for another engineer. Read the changes you are pointed at (use \
the shell to run git commands and read files; do not modify anything) and report real \
problems: bugs, security issues, broken edge cases, missing error handling, misleading names \
or docs. Skip style nits unless they hide a bug. Each finding must be something the author \
would want to fix, with the exact place it is.

Answer with one JSON object and nothing else:
{"findings": [{"title": "short summary", "body": "why it is a problem and how to fix it", \
"confidence_score": 0.0-1.0, "priority": 0-3, "code_location": {"absolute_file_path": "/path", \
"line_range": {"start": N, "end": M}}}], "overall_correctness": "patch is correct" or \
"patch is incorrect", "overall_explanation": "one or two sentences", \
"overall_confidence_score": 0.0-1.0}
"""


class ReviewTargetError(ValueError):
    """The review target is unusable (the message names what is wrong)."""


@dataclass(frozen=True)
class ReviewRequest:
    hint: str  # what clients show, e.g. "commit 1234567: Tidy UI colors"
    task: str  # what the model is asked to review

    @classmethod
    def from_target(cls, target: dict[str, Any]) -> ReviewRequest:
        kind = target.get("type")
        if kind == "uncommittedChanges":
            return cls(
                "current changes",
                "Review the uncommitted changes in this repository (staged, unstaged and "
                "untracked files; start from `git status` and `git diff HEAD`).",
            )
        if kind == "baseBranch":
            branch = str(target.get("branch", "")).strip()
            if not branch:
                raise ReviewTargetError("branch must not be empty")
            return cls(
                f"changes against '{branch}'",
                f"Review the changes on this branch relative to `{branch}`: diff against the "
                f"merge base (`git merge-base HEAD {branch}`).",
            )
        if kind == "commit":
            sha = str(target.get("sha", "")).strip()
            if not sha:
                raise ReviewTargetError("sha must not be empty")
            title = str(target.get("title") or "").strip()
            short = sha[:7]
            hint = f"commit {short}: {title}" if title else f"commit {short}"
            about = f' ("{title}")' if title else ""
            return cls(hint, f"Review the changes made by commit {sha}{about}: `git show {sha}`.")
        if kind == "custom":
            instructions = str(target.get("instructions", "")).strip()
            if not instructions:
                raise ReviewTargetError("instructions must not be empty")
            return cls(instructions, instructions)
        raise ReviewTargetError(f"unknown review target type `{kind}`")


def _location(finding: dict[str, Any]) -> str | None:
    location = finding.get("code_location")
    if not isinstance(location, dict):
        return None
    path = location.get("absolute_file_path")
    if not isinstance(path, str) or not path:
        return None
    lines = location.get("line_range")
    if isinstance(lines, dict) and isinstance(lines.get("start"), int):
        end = lines.get("end")
        span = f"{lines['start']}-{end}" if isinstance(end, int) else str(lines["start"])
        return f"{path}:{span}"
    return path


# Put into the reviewed thread's history after a review (Parley's own words), so later turns
# can act on the findings; the review's own conversation is not kept there.
REVIEW_RESULT_INTRO = (
    "The user asked for a code review, which a reviewer completed. Its full output follows; "
    "the user may ask you to address some of its findings.\n\n"
)


def review_result_message(text: str) -> dict[str, object]:
    """The history item recording a finished review's output."""
    return {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": REVIEW_RESULT_INTRO + text}],
    }


def render_review(answer: str) -> str:
    """The review as text: the overall verdict, then one entry per finding."""
    try:
        report = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return answer.strip()
    if not isinstance(report, dict):
        return answer.strip()
    parts: list[str] = []
    explanation = report.get("overall_explanation")
    if isinstance(explanation, str) and explanation:
        parts.append(explanation)
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    if findings:
        lines = ["Findings:"]
        for finding in findings:
            priority = finding.get("priority")
            tag = f"[P{priority}] " if isinstance(priority, int) else ""
            lines.append(f"- {tag}{finding.get('title', '')}")
            where = _location(finding)
            if where:
                lines.append(f"  {where}")
            body = finding.get("body")
            if isinstance(body, str) and body:
                lines.append(f"  {body}")
        parts.append("\n".join(lines))
    elif not parts:
        parts.append("No problems found.")
    return "\n\n".join(parts)
