"""The longest value each text field of an ingest may hold: the lengths of the columns that
store it (models.py declares them; a test checks that the two agree).

Kept apart from models.py so that the direct load of a plain CSV, which checks these lengths
while it reads, needs no ORM.
"""

MAX_LENGTHS: dict[str, int] = {
    "section": 200,  # sections.name
    "student_id": 64,  # students.student_id
    "last_name": 200,  # students.lname
    "first_name": 200,  # students.fname
    "group": 200,  # groups.name
    "run": 200,  # runs.name
    "term": 32,  # sections.term
    "header": 200,  # sections.header_name
    "path": 1000,  # source_files.path
}
