"""Tools the agent runs on the user's machine: the shell command and its sandbox."""
