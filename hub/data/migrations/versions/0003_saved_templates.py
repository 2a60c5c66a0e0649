"""templates saved through the API

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=32), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('saved_by', sa.String(length=64), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_templates')),
    sa.UniqueConstraint('template_id', 'version', name=op.f('uq_saved_templates_template_id'))
    )
    with op.batch_alter_table('saved_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_templates_template_id'), ['template_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('saved_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_templates_template_id'))

    op.drop_table('saved_templates')
