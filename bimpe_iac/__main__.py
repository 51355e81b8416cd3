from bimpe_iac.cli import main

main()
