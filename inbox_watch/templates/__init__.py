"""Built-in chaser and employer-note templates (plain text with $placeholders)."""
