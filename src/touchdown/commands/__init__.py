"""CLI sub-commands, one module per command group; `touchdown.cli` assembles them."""
