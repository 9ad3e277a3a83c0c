"""the store's grade scale, and the scale each analysis used

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The built-in "default" scale (design.md section 2) as it was when this revision was written:
# every analysis made before it was computed under this scale.
DEFAULT_SCALE = {
    "name": "default",
    "points": {
        "A+": 4.0, "A": 4.0, "A-": 3.7, "B+": 3.3, "B": 3.0, "B-": 2.7, "C+": 2.3, "C": 2.0,
        "C-": 1.7, "D+": 1.3, "D": 1.0, "D-": 0.7, "F": 0.0,
    },
    "not_counted": ["I", "W", "P", "NP"],
    "good": ["A+", "A", "A-"],
    "work": ["D+", "D", "D-", "F"],
}


def upgrade() -> None:
    op.create_table('store_scale',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('scale', sa.JSON(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_store_scale_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_scale'))
    )
    # Adding columns is a plain ALTER TABLE on SQLite too: no copy of the analyses table.
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scale_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('scale', sa.JSON(), nullable=True))
    # An existing store keeps the default scale (no store_scale row); its analyses used it.
    analyses = sa.table('analyses', sa.column('scale_name', sa.String), sa.column('scale', sa.JSON))
    op.execute(analyses.update().values(scale_name='default', scale=DEFAULT_SCALE))


def downgrade() -> None:
    # Not through a batch copy on SQLite: dropping and re-creating analyses would cascade to
    # every analysis row. SQLite (3.35+) drops a column in place.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE analyses DROP COLUMN scale')
        op.execute('ALTER TABLE analyses DROP COLUMN scale_name')
    else:
        op.drop_column('analyses', 'scale')
        op.drop_column('analyses', 'scale_name')
    op.drop_table('store_scale')
