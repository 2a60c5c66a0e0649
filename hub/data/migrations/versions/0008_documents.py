"""documents: files and their versions, grants to read them, who read them

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('category', sa.Enum('WORK_LEDGER', 'MEETING_MINUTES', 'INSPECTION', 'POLICY', 'PHOTO', 'OTHER', name='document_category', native_enum=False, length=24), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('tags', sa.String(length=256), nullable=False),
    sa.Column('owner_unit_id', sa.Integer(), nullable=False),
    sa.Column('latest_number', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['org_units.id'], name=op.f('fk_documents_owner_unit_id_org_units')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_documents_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_owner_category_year', ['owner_unit_id', 'category', 'year'], unique=False)

    op.create_table('document_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_unit_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.Enum('WORK_LEDGER', 'MEETING_MINUTES', 'INSPECTION', 'POLICY', 'PHOTO', 'OTHER', name='document_category', native_enum=False, length=24), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('grantee_unit_id', sa.Integer(), nullable=True),
    sa.Column('grantee_user_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('purpose', sa.String(length=256), nullable=False),
    sa.Column('mode', sa.Enum('VIEW', 'DOWNLOAD', name='grant_mode', native_enum=False, length=24), nullable=False),
    sa.Column('granted_by', sa.String(length=64), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revoked_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint('(document_id IS NULL) <> (category IS NULL)', name=op.f('ck_document_grants_one_subject')),
    sa.CheckConstraint('(grantee_unit_id IS NULL) <> (grantee_user_id IS NULL)', name=op.f('ck_document_grants_one_grantee')),
    sa.CheckConstraint('valid_until >= valid_from', name=op.f('ck_document_grants_period')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_grants_document_id_documents')),
    sa.ForeignKeyConstraint(['grantee_unit_id'], ['org_units.id'], name=op.f('fk_document_grants_grantee_unit_id_org_units')),
    sa.ForeignKeyConstraint(['grantee_user_id'], ['users.id'], name=op.f('fk_document_grants_grantee_user_id_users')),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['org_units.id'], name=op.f('fk_document_grants_owner_unit_id_org_units')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_document_grants_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_grants'))
    )
    with op.batch_alter_table('document_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_grants_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_grants_grantee_unit_id'), ['grantee_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_grants_grantee_user_id'), ['grantee_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_grants_owner_unit_id'), ['owner_unit_id'], unique=False)

    op.create_table('document_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('PDF', 'XLSX', 'DOCX', 'JPEG', 'PNG', name='document_kind', native_enum=False, length=24), nullable=False),
    sa.Column('file_name', sa.String(length=128), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('blob_key', sa.String(length=80), nullable=False),
    sa.Column('preview_key', sa.String(length=80), nullable=True),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_versions_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_versions')),
    sa.UniqueConstraint('document_id', 'number', name=op.f('uq_document_versions_document_id'))
    )
    op.create_table('document_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('org_unit', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('part', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_access_document_id_documents')),
    sa.ForeignKeyConstraint(['grant_id'], ['document_grants.id'], name=op.f('fk_document_access_grant_id_document_grants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_document_access_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_access'))
    )
    with op.batch_alter_table('document_access', schema=None) as batch_op:
        batch_op.create_index('ix_document_access_document_id', ['document_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('document_access', schema=None) as batch_op:
        batch_op.drop_index('ix_document_access_document_id')

    op.drop_table('document_access')
    op.drop_table('document_versions')
    with op.batch_alter_table('document_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_grants_owner_unit_id'))
        batch_op.drop_index(batch_op.f('ix_document_grants_grantee_user_id'))
        batch_op.drop_index(batch_op.f('ix_document_grants_grantee_unit_id'))
        batch_op.drop_index(batch_op.f('ix_document_grants_document_id'))

    op.drop_table('document_grants')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_owner_category_year')

    op.drop_table('documents')
