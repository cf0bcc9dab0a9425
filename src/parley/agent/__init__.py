"""The agent turn engine: Responses API loop, tool calls, approvals and turn notifications."""
