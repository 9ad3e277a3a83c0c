"""indexes for analyses and reports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index('ix_enrollments_section_id_grade', ['section_id', 'grade'], unique=False)

    with op.batch_alter_table('list_appearances', schema=None) as batch_op:
        batch_op.create_index('ix_list_appearances_section_name', ['section_name'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('list_appearances', schema=None) as batch_op:
        batch_op.drop_index('ix_list_appearances_section_name')

    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollments_section_id_grade')

