"""Twins of upstream `app-server/tests/suite/v2/mcp_server_elicitation.rs`: none can run here.

Out of scope: `mcp_server_elicitation_round_trip` — its tool lives on the built-in `codex_apps`
server, which exists only for a ChatGPT sign-in (the test writes ChatGPT auth and serves the
connector directory and apps MCP endpoint under `chatgpt_base_url`). The same round trip —
a server's form elicitation forwarded as `mcpServer/elicitation/request` with the thread and
turn ids, the client's accept with content sent back, `serverRequest/resolved` before
`turn/completed`, the tool's text reaching the model — is tested with a server from the user's
config in `tests/mcp/test_tool_calls.py` (`test_a_server_elicitation_is_forwarded_to_the_client`).
"""
