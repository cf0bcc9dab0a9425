"""Skills: `SKILL.md` folders found where the reference looks for them, their enabled state from
`[[skills.config]]`, and the text that tells the agent which ones it may use."""
