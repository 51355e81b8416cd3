"""Export a team's live configuration as a stack directory: read it, give every resource a
logical key, lay it out as manifests and files, and write them deterministically."""
