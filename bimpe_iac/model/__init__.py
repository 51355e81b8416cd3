"""Plain values and Protocols every layer shares: plans and their parts (`plan`), ids (`ids`),
located issues (`issues`), what a resource kind is (`kind`, `views`) and the registry of kinds
(`registry`). It imports nothing else of bimpe_iac."""
