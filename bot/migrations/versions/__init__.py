"""The bot tables' revisions, oldest first: 0001 is the schema every release before migrations created."""
