"""multiplicity control, effect sizes, null reasons and the test method of an analysis

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEST_TABLES = ('analysis_groups', 'zscores')


def upgrade() -> None:
    # Only added columns: SQLite adds them in place (batch mode recreates no table).
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=16), server_default='z', nullable=False))
        batch_op.add_column(sa.Column('adjust', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('min_n', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('overdispersion', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('tests', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('expected_false_flags', sa.Float(), nullable=True))
    for table in TEST_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('p_adjusted', sa.Float(), nullable=True))
            batch_op.add_column(sa.Column('significant_adjusted', sa.Boolean(), nullable=True))
            batch_op.add_column(sa.Column('effect_size', sa.Float(), nullable=True))
            batch_op.add_column(sa.Column('no_test_reason', sa.String(length=80), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35 or later), not batch mode: batch mode
    # would recreate 'analyses', and dropping the old table under foreign_keys=ON cascades to
    # every row of every analysis.
    for table in reversed(TEST_TABLES):
        for column in ('no_test_reason', 'effect_size', 'significant_adjusted', 'p_adjusted'):
            op.drop_column(table, column)
    for column in ('expected_false_flags', 'tests', 'overdispersion', 'min_n', 'adjust', 'method'):
        op.drop_column('analyses', column)
