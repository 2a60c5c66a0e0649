"""initial schema: regions, households, persons, enterprises, flood points

Revision ID: 0001
Revises: 
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('regions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('level', sa.Enum('CITY', 'DISTRICT', 'TOWN', 'VILLAGE', name='region_level', native_enum=False, length=24), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('household_count', sa.Integer(), nullable=True),
    sa.Column('area_km2', sa.Float(), nullable=True),
    sa.Column('party_secretary', sa.String(length=32), nullable=True),
    sa.Column('director', sa.String(length=32), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=128), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('length(code) = 12', name=op.f('ck_regions_code_length')),
    sa.ForeignKeyConstraint(['parent_id'], ['regions.id'], name=op.f('fk_regions_parent_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('code', name=op.f('uq_regions_code'))
    )
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index('ix_regions_level_code', ['level', 'code'], unique=False)
        batch_op.create_index(batch_op.f('ix_regions_parent_id'), ['parent_id'], unique=False)

    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('legal_representative', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=128), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('industry', sa.String(length=32), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=False),
    sa.Column('safety_contact', sa.String(length=32), nullable=True),
    sa.Column('safety_contact_phone', sa.String(length=20), nullable=True),
    sa.Column('flood_risk', sa.Enum('HIGH', 'MEDIUM', 'LOW', name='risk_level', native_enum=False, length=24), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['regions.id'], name=op.f('fk_enterprises_village_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_enterprises_credit_code'))
    )
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprises_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprises_village_id'), ['village_id'], unique=False)

    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=128), nullable=False),
    sa.Column('grid_name', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('low_income', sa.Boolean(), nullable=False),
    sa.Column('extreme_poverty', sa.Boolean(), nullable=False),
    sa.Column('elderly_alone', sa.Boolean(), nullable=False),
    sa.Column('poverty_monitored', sa.Boolean(), nullable=False),
    sa.Column('low_income_since', sa.Date(), nullable=True),
    sa.Column('income_per_person_monthly', sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=True),
    sa.Column('subsidy_monthly', sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=True),
    sa.Column('housing_safety_grade', sa.Enum('A', 'B', 'C', 'D', name='housing_safety_grade', native_enum=False, length=24), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['regions.id'], name=op.f('fk_households_village_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_village_id'), ['village_id'], unique=False)
        batch_op.create_index('ix_households_village_low_income', ['village_id', 'low_income'], unique=False)

    op.create_table('flood_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('risk_level', sa.Enum('HIGH', 'MEDIUM', 'LOW', name='risk_level', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('ACTIVE', 'FIXING', 'FIXED', name='flood_point_status', native_enum=False, length=24), nullable=False),
    sa.Column('responsible_person', sa.String(length=32), nullable=False),
    sa.Column('responsible_phone', sa.String(length=20), nullable=False),
    sa.Column('nearby_enterprise_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('longitude BETWEEN -180 AND 180 AND latitude BETWEEN -90 AND 90', name=op.f('ck_flood_points_coordinates')),
    sa.ForeignKeyConstraint(['nearby_enterprise_id'], ['enterprises.id'], name=op.f('fk_flood_points_nearby_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['village_id'], ['regions.id'], name=op.f('fk_flood_points_village_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flood_points'))
    )
    with op.batch_alter_table('flood_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flood_points_nearby_enterprise_id'), ['nearby_enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flood_points_village_id'), ['village_id'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('gender', sa.Enum('MALE', 'FEMALE', name='gender', native_enum=False, length=24), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('ethnicity', sa.String(length=16), nullable=False),
    sa.Column('relation_to_head', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('residence_status', sa.Enum('RESIDENT', 'MOVED_OUT', 'DECEASED', name='residence_status', native_enum=False, length=24), nullable=False),
    sa.Column('employment_status', sa.Enum('EMPLOYED', 'FLEXIBLE', 'FARMING', 'UNEMPLOYED', 'STUDENT', 'RETIRED', 'UNABLE', name='employment_status', native_enum=False, length=24), nullable=True),
    sa.Column('employer', sa.String(length=128), nullable=True),
    sa.Column('pension_insurance', sa.String(length=32), nullable=True),
    sa.Column('medical_insurance', sa.String(length=32), nullable=True),
    sa.Column('health_status', sa.Enum('HEALTHY', 'CHRONIC', 'SERIOUS', 'DISABLED', name='health_status', native_enum=False, length=24), nullable=False),
    sa.Column('chronic_diseases', sa.String(length=128), nullable=True),
    sa.Column('disability_type', sa.String(length=16), nullable=True),
    sa.Column('disability_grade', sa.Integer(), nullable=True),
    sa.Column('key_care_reason', sa.Enum('ILLNESS', 'DISABILITY', name='key_care_reason', native_enum=False, length=24), nullable=True),
    sa.Column('recent_status', sa.Text(), nullable=True),
    sa.Column('recent_status_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('disability_grade IS NULL OR disability_grade BETWEEN 1 AND 4', name=op.f('ck_persons_disability_grade')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_persons_household_id_households')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('id_number', name=op.f('uq_persons_id_number'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_birth_date'), ['birth_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_key_care_reason'), ['key_care_reason'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_name'), ['name'], unique=False)

    op.create_table('flood_point_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flood_point_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=128), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=256), nullable=False),
    sa.Column('caption', sa.String(length=256), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['flood_point_id'], ['flood_points.id'], name=op.f('fk_flood_point_photos_flood_point_id_flood_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flood_point_photos'))
    )
    with op.batch_alter_table('flood_point_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flood_point_photos_flood_point_id'), ['flood_point_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('flood_point_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flood_point_photos_flood_point_id'))

    op.drop_table('flood_point_photos')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_name'))
        batch_op.drop_index(batch_op.f('ix_persons_key_care_reason'))
        batch_op.drop_index(batch_op.f('ix_persons_household_id'))
        batch_op.drop_index(batch_op.f('ix_persons_birth_date'))

    op.drop_table('persons')
    with op.batch_alter_table('flood_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flood_points_village_id'))
        batch_op.drop_index(batch_op.f('ix_flood_points_nearby_enterprise_id'))

    op.drop_table('flood_points')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index('ix_households_village_low_income')
        batch_op.drop_index(batch_op.f('ix_households_village_id'))

    op.drop_table('households')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprises_village_id'))
        batch_op.drop_index(batch_op.f('ix_enterprises_name'))

    op.drop_table('enterprises')
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regions_parent_id'))
        batch_op.drop_index('ix_regions_level_code')

    op.drop_table('regions')
