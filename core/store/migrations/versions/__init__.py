"""The core schema's revisions, oldest first: 0001 is the first release's schema; each later file is one change."""
