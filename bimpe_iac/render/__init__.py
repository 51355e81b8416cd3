"""Plans as text for a terminal, JSON documents, Markdown for pull requests, and apply progress.

Data in, text out: nothing here prints or writes a file (except the schema generator in
`plan_document`); the commands do.
"""
