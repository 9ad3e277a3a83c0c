"""enrollments keyed by (section, student): one B-tree fewer per grade, no surrogate id

On SQLite the table becomes WITHOUT ROWID: the primary key (section_id, student_id) is the
table, so the old rowid, the unique (section_id, student_id) index and the (section_id, grade)
index are gone; the student and source-file indexes stay (reports by student, provenance).
The rows are copied in key order into the new table, so an existing store is converted in
place. On PostgreSQL the same key replaces the surrogate id and the two indexes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "section_id, student_id, grade, source_file_id"


def _enrollments_table(name: str, *, with_id: bool) -> None:
    """The enrollments table as revision 0004 (``with_id=False``) or 0003 defines it."""
    key = (
        [sa.Column('id', sa.Integer(), nullable=False)] if with_id else []
    )
    op.create_table(
        name,
        *key,
        sa.Column('section_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('grade', sa.String(length=2), nullable=False),
        sa.Column('source_file_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name='fk_enrollments_section_id_sections', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['source_file_id'], ['source_files.id'], name='fk_enrollments_source_file_id_source_files'),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'], name='fk_enrollments_student_id_students'),
        sa.PrimaryKeyConstraint(*(['id'] if with_id else ['section_id', 'student_id']), name='pk_enrollments'),
        *([sa.UniqueConstraint('section_id', 'student_id', name='uq_enrollments_section_id_student_id')] if with_id else []),
        **({} if with_id else {'sqlite_with_rowid': False}),
    )


def _copy_sqlite(*, to_keyed: bool) -> None:
    """Rebuild enrollments on SQLite: new table, rows copied in key order, old one dropped."""
    _enrollments_table('enrollments_new', with_id=not to_keyed)
    columns = COLUMNS if to_keyed else f"id, {COLUMNS}"
    source = COLUMNS if to_keyed else f"row_number() OVER (ORDER BY section_id, student_id), {COLUMNS}"
    op.execute(f"INSERT INTO enrollments_new ({columns}) SELECT {source} FROM enrollments ORDER BY section_id, student_id")
    op.drop_table('enrollments')
    op.rename_table('enrollments_new', 'enrollments')
    op.create_index('ix_enrollments_source_file_id', 'enrollments', ['source_file_id'], unique=False)
    op.create_index('ix_enrollments_student_id', 'enrollments', ['student_id'], unique=False)
    if not to_keyed:
        op.create_index('ix_enrollments_section_id_grade', 'enrollments', ['section_id', 'grade'], unique=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _copy_sqlite(to_keyed=True)
        return
    op.drop_index('ix_enrollments_section_id_grade', table_name='enrollments')
    op.drop_constraint('uq_enrollments_section_id_student_id', 'enrollments', type_='unique')
    op.drop_constraint('pk_enrollments', 'enrollments', type_='primary')
    op.drop_column('enrollments', 'id')
    op.create_primary_key('pk_enrollments', 'enrollments', ['section_id', 'student_id'])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _copy_sqlite(to_keyed=False)
        return
    op.drop_constraint('pk_enrollments', 'enrollments', type_='primary')
    op.add_column('enrollments', sa.Column('id', sa.Integer(), sa.Identity(), nullable=False))
    op.create_primary_key('pk_enrollments', 'enrollments', ['id'])
    op.create_unique_constraint('uq_enrollments_section_id_student_id', 'enrollments', ['section_id', 'student_id'])
    op.create_index('ix_enrollments_section_id_grade', 'enrollments', ['section_id', 'grade'], unique=False)
