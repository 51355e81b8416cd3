"""Plain values and Protocols every layer shares: plans and their parts (`plan`), ids (`ids`),
located issues (`issues`), what a resource kind is (`kind`, `views`), where kinds are written
in a manifest (`sections`), what export hands a kind (`export`) and the registry of kinds
(`registry`). It imports nothing else of bimpe_iac."""
