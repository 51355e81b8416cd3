"""The generic reconciler: desired state, live state, diff, plan and apply. It knows no
resource kind by name; kinds live in `bimpe_iac.resources`."""
