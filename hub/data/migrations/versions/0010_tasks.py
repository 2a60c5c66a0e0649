"""changes made by a task fill name their task and round, so a round lists exactly its own changes

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('task_round', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_changes_task_id_village_tasks', 'village_tasks', ['task_id'], ['id'])
        batch_op.create_index('ix_changes_task_id', ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index('ix_changes_task_id')
        batch_op.drop_constraint('fk_changes_task_id_village_tasks', type_='foreignkey')
        batch_op.drop_column('task_round')
        batch_op.drop_column('task_id')
