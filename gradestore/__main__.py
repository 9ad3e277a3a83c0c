from gradestore.entry import main

main()
