"""task rounds: a send-back keeps the rows and columns it named

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-16
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('request_transitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('named_cells', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('request_transitions', schema=None) as batch_op:
        batch_op.drop_column('named_cells')
