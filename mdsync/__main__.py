from mdsync.cli import main

main()
