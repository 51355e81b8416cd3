"""Where bimpe-iac remembers what it manages: state documents, backends and their locks."""
