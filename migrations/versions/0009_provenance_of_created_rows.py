"""provenance of what an ingest created: which file added a student, section, group, run or membership

`gradestore sources remove` takes a file back: its grades and .lst entries (which knew their
file already), the memberships and run entries it added, and the students, sections, groups and
runs it created that nothing else holds. Rows made before this revision have no file (null): a
remove never takes them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('students', 'sections', 'groups', 'group_sections', 'runs', 'run_groups')


def _key(table: str) -> str:
    return f'fk_{table}_source_file_id_source_files'


def upgrade() -> None:
    for table in TABLES:
        if op.get_bind().dialect.name == 'sqlite':
            # A named reference needs a copy of the table on SQLite (gradestore db upgrade
            # runs with foreign keys off, so the copy cascades to nothing).
            with op.batch_alter_table(table, recreate='always') as batch_op:
                batch_op.add_column(sa.Column('source_file_id', sa.Integer(), nullable=True))
                batch_op.create_foreign_key(
                    _key(table), 'source_files', ['source_file_id'], ['id'], ondelete='SET NULL'
                )
        else:
            op.add_column(table, sa.Column('source_file_id', sa.Integer(), nullable=True))
            op.create_foreign_key(
                _key(table), table, 'source_files', ['source_file_id'], ['id'], ondelete='SET NULL'
            )


def downgrade() -> None:
    for table in TABLES:
        if op.get_bind().dialect.name == 'sqlite':
            # SQLite cannot drop a column that holds a reference: the table is copied without it.
            with op.batch_alter_table(table, recreate='always') as batch_op:
                batch_op.drop_column('source_file_id')
        else:
            op.drop_constraint(_key(table), table, type_='foreignkey')
            op.drop_column(table, 'source_file_id')
