"""Upstream `app-server/tests/suite/v2/turn_start_zsh_fork.rs` (4 tests): no twins, out of scope.

All four (`turn_start_shell_zsh_fork_executes_command_v2`, `…_exec_approval_decline_v2`,
`…_exec_approval_cancel_v2`, `…_subcommand_decline_marks_parent_declined_v2`) drive Codex's
`zsh_fork` shell mode, which runs commands in a patched zsh build (fetched with DotSlash as a
test artifact) whose exec hook reports every subcommand back to the server for approval. Debian's
zsh has no such hook and Parley has no zsh-fork mode, so there is nothing equivalent to run
here; upstream itself skips these tests when that zsh is unavailable.

Checked again for the first three (which do not test `EXEC_WRAPPER` interception themselves):
their `find_test_zsh_path` accepts only the DotSlash-fetched Codex build of zsh (a network fetch
of a Codex release artifact) and skips otherwise, and what they assert (the command item's
command starting with that zsh's path, its approval flow) is the zsh-fork launch path itself.
A twin run with a stock zsh would test a Parley feature upstream does not have, not the
reference's behaviour; this machine has no zsh installed either.
"""
