"""The generic reconciler: desired state, live state, diff, plan and apply. It knows no
resource kind by name and imports none: the commands hand its entry points the kinds'
`bimpe_iac.model.registry.Registry` (`bimpe_iac.resources.REGISTRY`)."""
