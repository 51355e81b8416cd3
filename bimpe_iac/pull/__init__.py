"""`pull`: what changed in the Console, written into the stack's own files."""
