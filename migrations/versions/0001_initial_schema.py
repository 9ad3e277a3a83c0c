"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analyses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('scope_kind', sa.String(length=16), nullable=False),
    sa.Column('scope_names', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analyses'))
    )
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analyses_created_at'), ['created_at'], unique=False)

    op.create_table('groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('mean_gpa', sa.Float(), nullable=True),
    sa.Column('stddev', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_groups_name'))
    )
    op.create_table('runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runs')),
    sa.UniqueConstraint('name', name=op.f('uq_runs_name'))
    )
    op.create_table('sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('mean_gpa', sa.Float(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=True),
    sa.Column('credit_hours', sa.Float(), nullable=True),
    sa.Column('term', sa.String(length=32), nullable=True),
    sa.Column('header_name', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sections')),
    sa.UniqueConstraint('name', name=op.f('uq_sections_name'))
    )
    op.create_table('source_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_files'))
    )
    with op.batch_alter_table('source_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_files_sha256'), ['sha256'], unique=False)

    op.create_table('students',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fname', sa.String(length=200), nullable=False),
    sa.Column('lname', sa.String(length=200), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_students')),
    sa.UniqueConstraint('student_id', name=op.f('uq_students_student_id'))
    )
    op.create_table('analysis_groups',
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('mean_gpa', sa.Float(), nullable=True),
    sa.Column('stddev', sa.Float(), nullable=True),
    sa.Column('z_score', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('significant', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['analysis_id'], ['analyses.id'], name=op.f('fk_analysis_groups_analysis_id_analyses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_analysis_groups_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('analysis_id', 'group_id', name=op.f('pk_analysis_groups'))
    )
    with op.batch_alter_table('analysis_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_groups_group_id'), ['group_id'], unique=False)

    op.create_table('analysis_sections',
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('mean_gpa', sa.Float(), nullable=True),
    sa.Column('grade_counts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['analysis_id'], ['analyses.id'], name=op.f('fk_analysis_sections_analysis_id_analyses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_analysis_sections_section_id_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('analysis_id', 'section_id', name=op.f('pk_analysis_sections'))
    )
    with op.batch_alter_table('analysis_sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_sections_section_id'), ['section_id'], unique=False)

    op.create_table('enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=2), nullable=False),
    sa.Column('source_file_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_enrollments_section_id_sections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_file_id'], ['source_files.id'], name=op.f('fk_enrollments_source_file_id_source_files')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_enrollments_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollments')),
    sa.UniqueConstraint('section_id', 'student_id', name=op.f('uq_enrollments_section_id_student_id'))
    )
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollments_source_file_id'), ['source_file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrollments_student_id'), ['student_id'], unique=False)

    op.create_table('group_sections',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_sections_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_group_sections_section_id_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'section_id', name=op.f('pk_group_sections'))
    )
    with op.batch_alter_table('group_sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_sections_section_id'), ['section_id'], unique=False)

    op.create_table('list_appearances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('section_name', sa.String(length=200), nullable=False),
    sa.Column('grade', sa.String(length=2), nullable=False),
    sa.Column('source_file_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['source_file_id'], ['source_files.id'], name=op.f('fk_list_appearances_source_file_id_source_files')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_list_appearances_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_appearances')),
    sa.UniqueConstraint('student_id', 'section_name', 'grade', name=op.f('uq_list_appearances_student_id_section_name_grade'))
    )
    with op.batch_alter_table('list_appearances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_appearances_source_file_id'), ['source_file_id'], unique=False)

    op.create_table('performances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=2), nullable=False),
    sa.Column('category', sa.String(length=4), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('appeared_before', sa.Boolean(), nullable=False),
    sa.CheckConstraint("category IN ('good', 'bad')", name=op.f('ck_performances_category')),
    sa.ForeignKeyConstraint(['analysis_id'], ['analyses.id'], name=op.f('fk_performances_analysis_id_analyses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_performances_section_id_sections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_performances_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_performances')),
    sa.UniqueConstraint('analysis_id', 'section_id', 'student_id', 'category', name=op.f('uq_performances_analysis_id_section_id_student_id_category'))
    )
    with op.batch_alter_table('performances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_performances_student_id'), ['student_id'], unique=False)

    op.create_table('run_groups',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_run_groups_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_run_groups_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'group_id', name=op.f('pk_run_groups'))
    )
    with op.batch_alter_table('run_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_groups_group_id'), ['group_id'], unique=False)

    op.create_table('zscores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('z_score', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('significant', sa.Boolean(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['analysis_id'], ['analyses.id'], name=op.f('fk_zscores_analysis_id_analyses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_zscores_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_zscores_section_id_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zscores'))
    )
    with op.batch_alter_table('zscores', schema=None) as batch_op:
        batch_op.create_index('ix_zscores_analysis_id_section_id', ['analysis_id', 'section_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_zscores_group_id'), ['group_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('zscores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zscores_group_id'))
        batch_op.drop_index('ix_zscores_analysis_id_section_id')

    op.drop_table('zscores')
    with op.batch_alter_table('run_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_groups_group_id'))

    op.drop_table('run_groups')
    with op.batch_alter_table('performances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_performances_student_id'))

    op.drop_table('performances')
    with op.batch_alter_table('list_appearances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_appearances_source_file_id'))

    op.drop_table('list_appearances')
    with op.batch_alter_table('group_sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_sections_section_id'))

    op.drop_table('group_sections')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollments_student_id'))
        batch_op.drop_index(batch_op.f('ix_enrollments_source_file_id'))

    op.drop_table('enrollments')
    with op.batch_alter_table('analysis_sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_sections_section_id'))

    op.drop_table('analysis_sections')
    with op.batch_alter_table('analysis_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_groups_group_id'))

    op.drop_table('analysis_groups')
    op.drop_table('students')
    with op.batch_alter_table('source_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_files_sha256'))

    op.drop_table('source_files')
    op.drop_table('sections')
    op.drop_table('runs')
    op.drop_table('groups')
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analyses_created_at'))

    op.drop_table('analyses')
