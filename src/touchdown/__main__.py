"""`python -m touchdown` is the `touchdown` command."""

from touchdown.cli import main

main()
