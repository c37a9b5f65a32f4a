"""The format stage (recipe section ``data:``): records → training chats and stage-1 text, mixed; and the
``medadapt data`` tools that show or export records as training sees them."""
