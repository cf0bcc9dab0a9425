"""The tools the agent offers the model, one module per tool; `registry` lists a turn's tools."""
