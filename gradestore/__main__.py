from gradestore.cli import main

main()
