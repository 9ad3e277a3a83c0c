"""terms in time order: sections.term_order, analyses' term scope, listed students' history

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gradestore.terms import term_key


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HISTORY_COLUMNS = ('earlier_terms_on_work_list', 'earlier_terms_on_good_list', 'first_term_listed')


def upgrade() -> None:
    # Only added columns: SQLite adds them in place (batch mode recreates no table).
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('term_order', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sections_term_order'), ['term_order'], unique=False)
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_terms', sa.JSON(), nullable=True))
    with op.batch_alter_table('performances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('earlier_terms_on_work_list', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('earlier_terms_on_good_list', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('first_term_listed', sa.String(length=32), nullable=True))
    _order_stored_terms()
    # Listed students of earlier analyses keep null history: it was not computed then.


def _order_stored_terms() -> None:
    """Every stored term gets the key ingest now gives it (the parser is gradestore.terms,
    the same code ingest uses, so a store upgraded later agrees with what it ingests). A store
    holds few distinct terms: one UPDATE per recognised label."""
    connection = op.get_bind()
    sections = sa.table('sections', sa.column('term', sa.String), sa.column('term_order', sa.Integer))
    labels = connection.execute(
        sa.select(sections.c.term).where(sections.c.term.is_not(None)).distinct()
    ).scalars()
    keys = [{'label': label, 'key': term_key(label)} for label in labels]
    recognised = [row for row in keys if row['key'] is not None]
    if recognised:
        connection.execute(
            sections.update()
            .where(sections.c.term == sa.bindparam('label'))
            .values(term_order=sa.bindparam('key')),
            recognised,
        )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35 or later), not batch mode: batch mode
    # would recreate the tables, and dropping an old table under foreign_keys=ON cascades.
    # What is lost: the terms' order (recomputed by the next upgrade) and the listed students'
    # history by term and the analyses' term scopes (not recomputed: read as null after it).
    for column in reversed(HISTORY_COLUMNS):
        op.drop_column('performances', column)
    op.drop_column('analyses', 'scope_terms')
    op.drop_index(op.f('ix_sections_term_order'), table_name='sections')
    op.drop_column('sections', 'term_order')
