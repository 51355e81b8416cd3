"""`fmt`: a stack's manifests rewritten in one canonical layout that loads to the same stack."""

from bimpe_iac.fmt.document import FormatError, formatted
from bimpe_iac.fmt.manifests import NotAStack
from bimpe_iac.fmt.run import Formatted, format_stack

__all__ = ["FormatError", "Formatted", "NotAStack", "format_stack", "formatted"]
