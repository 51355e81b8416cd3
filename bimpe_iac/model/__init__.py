"""Plain data the engine, the kinds and the commands share; imports nothing of bimpe-iac."""
