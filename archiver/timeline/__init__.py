"""The timeline: events loaded from Markdown, the link catalog, minimal-diff frontmatter edits."""
