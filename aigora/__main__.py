"""`python -m aigora` runs the CLI, for machines where the `aigora` script is not on PATH."""

from aigora.cli.main import main

main()
