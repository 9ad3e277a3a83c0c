"""the fingerprint of what an analysis read, so that an unchanged store is not analysed again

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # An added column: SQLite adds it in place. Analyses made before it have none, so the
    # first `analyze` after the upgrade stores a new analysis (docs/store-life.md).
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inputs_fingerprint', sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Not through a batch copy on SQLite: re-creating analyses would cascade to its rows.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE analyses DROP COLUMN inputs_fingerprint')
    else:
        op.drop_column('analyses', 'inputs_fingerprint')
