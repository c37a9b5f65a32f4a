from medadapt.cli.main import main

main()
