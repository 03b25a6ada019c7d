from chinchilla_cli.cli import main

main()
