"""indicators, data requests, town reviews and village tasks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.Enum('VILLAGE', 'HOUSEHOLD', 'PERSON', 'ENTERPRISE', 'FLOOD_POINT', name='indicator_entity', native_enum=False, length=24), nullable=False),
    sa.Column('value_type', sa.Enum('INTEGER', 'DECIMAL', 'TEXT', 'DATE', 'BOOLEAN', 'CHOICE', name='indicator_type', native_enum=False, length=24), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('max_length', sa.Integer(), nullable=True),
    sa.Column('choices', sa.Text(), nullable=True),
    sa.Column('min_value', sa.Float(), nullable=True),
    sa.Column('max_value', sa.Float(), nullable=True),
    sa.Column('pattern', sa.String(length=128), nullable=True),
    sa.Column('periodicity', sa.Enum('NONE', 'MONTH', 'QUARTER', 'YEAR', name='periodicity', native_enum=False, length=24), nullable=False),
    sa.Column('owner_department', sa.String(length=32), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators')),
    sa.UniqueConstraint('key', name=op.f('uq_indicators_key'))
    )
    op.create_table('data_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('department', sa.String(length=32), nullable=False),
    sa.Column('filed_by', sa.String(length=64), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.Enum('VILLAGE', 'HOUSEHOLD', 'PERSON', 'ENTERPRISE', 'FLOOD_POINT', name='indicator_entity', native_enum=False, length=24), nullable=False),
    sa.Column('filters', sa.String(length=256), nullable=False),
    sa.Column('columns', sa.Text(), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('recurrence', sa.Enum('NONE', 'MONTH', 'QUARTER', 'YEAR', name='periodicity', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('FILED', 'ANSWERED_FROM_HUB', 'NEEDS_GRANT', 'IN_REVIEW', 'APPROVED', 'REJECTED', 'RETURNED', name='request_status', native_enum=False, length=24), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=True),
    sa.Column('hub_cells', sa.Integer(), nullable=False),
    sa.Column('village_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_data_requests_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_requests'))
    )
    with op.batch_alter_table('data_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_requests_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_requests_region_id'), ['region_id'], unique=False)

    op.create_table('indicator_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_grants_indicator_id_indicators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_grants')),
    sa.UniqueConstraint('indicator_id', 'department', name=op.f('uq_indicator_grants_indicator_id'))
    )
    with op.batch_alter_table('indicator_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_grants_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('indicator_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_values_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['village_id'], ['regions.id'], name=op.f('fk_indicator_values_village_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values')),
    sa.UniqueConstraint('indicator_id', 'entity_id', 'period', name=op.f('uq_indicator_values_indicator_id'))
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_values_village_id'), ['village_id'], unique=False)

    op.create_table('request_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('FILED', 'ANSWERED_FROM_HUB', 'NEEDS_GRANT', 'IN_REVIEW', 'APPROVED', 'REJECTED', 'RETURNED', name='request_status', native_enum=False, length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('hub_cells', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['data_requests.id'], name=op.f('fk_request_reviews_duplicate_of_id_data_requests')),
    sa.ForeignKeyConstraint(['request_id'], ['data_requests.id'], name=op.f('fk_request_reviews_request_id_data_requests')),
    sa.ForeignKeyConstraint(['town_id'], ['regions.id'], name=op.f('fk_request_reviews_town_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_reviews')),
    sa.UniqueConstraint('request_id', 'town_id', name=op.f('uq_request_reviews_request_id'))
    )
    with op.batch_alter_table('request_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_reviews_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_reviews_town_id'), ['town_id'], unique=False)

    op.create_table('village_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('NOT_STARTED', 'IN_PROGRESS', 'SUBMITTED', 'SENT_BACK', 'ACCEPTED', name='task_status', native_enum=False, length=24), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.Date(), nullable=True),
    sa.Column('sent_back_reason', sa.Text(), nullable=True),
    sa.Column('cells', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['data_requests.id'], name=op.f('fk_village_tasks_request_id_data_requests')),
    sa.ForeignKeyConstraint(['village_id'], ['regions.id'], name=op.f('fk_village_tasks_village_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_village_tasks')),
    sa.UniqueConstraint('request_id', 'village_id', name=op.f('uq_village_tasks_request_id'))
    )
    with op.batch_alter_table('village_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_village_tasks_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_village_tasks_village_id'), ['village_id'], unique=False)

    op.create_table('request_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('org_unit', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['data_requests.id'], name=op.f('fk_request_transitions_request_id_data_requests')),
    sa.ForeignKeyConstraint(['review_id'], ['request_reviews.id'], name=op.f('fk_request_transitions_review_id_request_reviews')),
    sa.ForeignKeyConstraint(['task_id'], ['village_tasks.id'], name=op.f('fk_request_transitions_task_id_village_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_transitions'))
    )
    with op.batch_alter_table('request_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_transitions_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_transitions_task_id'), ['task_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('request_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_transitions_task_id'))
        batch_op.drop_index(batch_op.f('ix_request_transitions_request_id'))

    op.drop_table('request_transitions')
    with op.batch_alter_table('village_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_village_tasks_village_id'))
        batch_op.drop_index(batch_op.f('ix_village_tasks_request_id'))

    op.drop_table('village_tasks')
    with op.batch_alter_table('request_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_reviews_town_id'))
        batch_op.drop_index(batch_op.f('ix_request_reviews_request_id'))

    op.drop_table('request_reviews')
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_values_village_id'))

    op.drop_table('indicator_values')
    with op.batch_alter_table('indicator_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_grants_indicator_id'))

    op.drop_table('indicator_grants')
    with op.batch_alter_table('data_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_requests_region_id'))
        batch_op.drop_index(batch_op.f('ix_data_requests_department'))

    op.drop_table('data_requests')
    op.drop_table('indicators')
