"""a file's proof that the same bytes need no reading is kept, not counted: sections_stored, and triggers that clear it

A re-ingest of bytes a file stored whole is answered from ``source_files`` alone. Before this
revision the answer counted the file's grades (one pass over its index entries, 45-110 ms at a
million) to prove that none was removed since. Now the file keeps how many sections it stored
(``sections_stored``, beside ``grades_stored``), and the database itself clears the proof
(``grades_stored = 0``) whenever one of the file's grades is deleted or changed, whatever
deletes it: `sources remove`, `ingest --replace`, a section's cascade, or SQL typed by hand.

- SQLite: row triggers after DELETE and after UPDATE of ``enrollments``; each UPDATE of
  ``source_files`` finds nothing to do after a file's first row (``grades_stored <> 0``). Rows
  that ``INSERT OR REPLACE`` deletes fire delete triggers only under ``PRAGMA
  recursive_triggers`` (SQLite's rule); gradestore never writes grades that way.
- PostgreSQL: statement triggers with transition tables (one UPDATE a statement, a cascade
  included), and one for TRUNCATE. An UPDATE clears the files of the rows that the statement
  really changed (old rows not found among the new ones).

The upgrade fills ``sections_stored`` in place from the grades each file still holds, and
clears the proof of a file that no longer holds every grade it stored (what the count said).
A later migration that copies ``enrollments`` (SQLite's batch mode) must create these
triggers again: dropping a table drops its triggers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The proof of a file whose grade (OLD) went; a no-op once it is cleared.
_SQLITE_CLEAR = (
    'UPDATE source_files SET grades_stored = 0'
    ' WHERE id = OLD.source_file_id AND grades_stored <> 0;'
)
SQLITE_TRIGGERS = (
    'CREATE TRIGGER enrollments_deleted AFTER DELETE ON enrollments'
    f' WHEN OLD.source_file_id IS NOT NULL BEGIN {_SQLITE_CLEAR} END',
    'CREATE TRIGGER enrollments_updated AFTER UPDATE ON enrollments'
    ' WHEN OLD.source_file_id IS NOT NULL AND (OLD.section_id IS NOT NEW.section_id'
    ' OR OLD.student_id IS NOT NEW.student_id OR OLD.grade IS NOT NEW.grade'
    f' OR OLD.source_file_id IS NOT NEW.source_file_id) BEGIN {_SQLITE_CLEAR} END',
)
POSTGRES_TRIGGERS = (
    'CREATE FUNCTION enrollments_deleted() RETURNS trigger LANGUAGE plpgsql'
    ' SET search_path FROM CURRENT AS $$ BEGIN'
    ' UPDATE source_files SET grades_stored = 0 WHERE grades_stored <> 0'
    ' AND id IN (SELECT source_file_id FROM gone); RETURN NULL; END $$',
    'CREATE TRIGGER enrollments_deleted AFTER DELETE ON enrollments'
    ' REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION enrollments_deleted()',
    # A transition table cannot go with a column list: every UPDATE fires it, and the rows it
    # changed are those of the old table that the new one lacks.
    'CREATE FUNCTION enrollments_updated() RETURNS trigger LANGUAGE plpgsql'
    ' SET search_path FROM CURRENT AS $$ BEGIN'
    ' UPDATE source_files SET grades_stored = 0 WHERE grades_stored <> 0'
    ' AND id IN (SELECT source_file_id FROM (SELECT section_id, student_id, grade,'
    ' source_file_id FROM gone EXCEPT SELECT section_id, student_id, grade, source_file_id'
    ' FROM came) AS changed); RETURN NULL; END $$',
    'CREATE TRIGGER enrollments_updated AFTER UPDATE ON enrollments'
    ' REFERENCING OLD TABLE AS gone NEW TABLE AS came'
    ' FOR EACH STATEMENT EXECUTE FUNCTION enrollments_updated()',
    'CREATE FUNCTION enrollments_truncated() RETURNS trigger LANGUAGE plpgsql'
    ' SET search_path FROM CURRENT AS $$ BEGIN'
    ' UPDATE source_files SET grades_stored = 0 WHERE grades_stored <> 0; RETURN NULL; END $$',
    'CREATE TRIGGER enrollments_truncated AFTER TRUNCATE ON enrollments'
    ' FOR EACH STATEMENT EXECUTE FUNCTION enrollments_truncated()',
)
TRIGGERS = ('enrollments_deleted', 'enrollments_updated', 'enrollments_truncated')


def upgrade() -> None:
    # An added column: SQLite adds it in place (batch mode recreates no table for it).
    with op.batch_alter_table('source_files', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('sections_stored', sa.Integer(), server_default='0', nullable=False)
        )
    # What the count said until now, once: the sections of each file that still holds every
    # grade it stored, and no proof for one that does not.
    held = 'FROM enrollments e WHERE e.source_file_id = source_files.id'
    op.execute(
        'UPDATE source_files SET grades_stored = 0 WHERE grades_stored > 0'
        f' AND grades_stored <> (SELECT COUNT(*) {held})'
    )
    op.execute(
        'UPDATE source_files SET sections_stored ='
        f' (SELECT COUNT(DISTINCT e.section_id) {held}) WHERE grades_stored > 0'
    )
    postgres = op.get_bind().dialect.name == 'postgresql'
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for name in TRIGGERS:
        if postgres:
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON enrollments')
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')
        elif name != 'enrollments_truncated':
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35 or later): batch mode would copy the table.
    # grades_stored keeps its meaning for 0009 (the count checks it again).
    op.drop_column('source_files', 'sections_stored')
