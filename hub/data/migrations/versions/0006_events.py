"""events: village damage reports, the register of damaged houses, flood-point reports, photos, the live board's outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('TYPHOON', 'RAINSTORM_FLOOD', 'LANDSLIDE', 'OTHER', name='event_kind', native_enum=False, length=24), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('scope_low', sa.String(length=12), nullable=False),
    sa.Column('scope_high', sa.String(length=12), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'CLOSED', name='event_status', native_enum=False, length=24), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('opened_unit', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_events_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_region_id'), ['region_id'], unique=False)

    op.create_table('damage_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('INITIAL', 'FOLLOW_UP', 'FINAL', name='report_kind', native_enum=False, length=24), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('affected_population', sa.Integer(), nullable=False),
    sa.Column('relocated_population', sa.Integer(), nullable=False),
    sa.Column('relief_needed_population', sa.Integer(), nullable=False),
    sa.Column('deaths', sa.Integer(), nullable=False),
    sa.Column('missing', sa.Integer(), nullable=False),
    sa.Column('collapsed_rooms', sa.Integer(), nullable=False),
    sa.Column('severely_damaged_rooms', sa.Integer(), nullable=False),
    sa.Column('generally_damaged_rooms', sa.Integer(), nullable=False),
    sa.Column('crop_affected_area', sa.Numeric(precision=12, scale=1, asdecimal=False), nullable=False),
    sa.Column('crop_disaster_area', sa.Numeric(precision=12, scale=1, asdecimal=False), nullable=False),
    sa.Column('crop_lost_area', sa.Numeric(precision=12, scale=1, asdecimal=False), nullable=False),
    sa.Column('direct_loss', sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.Column('reported_by', sa.String(length=64), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_status', sa.Enum('SUBMITTED', 'PASSED', 'SENT_BACK', name='review_status', native_enum=False, length=24), nullable=False),
    sa.Column('review_reason', sa.String(length=256), nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_damage_reports_event_id_events')),
    sa.ForeignKeyConstraint(['village_id'], ['regions.id'], name=op.f('fk_damage_reports_village_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_damage_reports')),
    sa.UniqueConstraint('event_id', 'village_id', 'sequence', name='event_village_sequence')
    )
    with op.batch_alter_table('damage_reports', schema=None) as batch_op:
        batch_op.create_index('ix_damage_reports_event_village', ['event_id', 'village_id', 'sequence'], unique=False)

    op.create_table('affected_enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_affected_enterprises_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['report_id'], ['damage_reports.id'], name=op.f('fk_affected_enterprises_report_id_damage_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_affected_enterprises')),
    sa.UniqueConstraint('report_id', 'enterprise_id', name='report_enterprise')
    )
    with op.batch_alter_table('affected_enterprises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_affected_enterprises_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_affected_enterprises_report_id'), ['report_id'], unique=False)

    op.create_table('damaged_houses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('damage', sa.Enum('COLLAPSED', 'SEVERE', 'GENERAL', name='house_damage', native_enum=False, length=24), nullable=False),
    sa.Column('rooms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_damaged_houses_household_id_households')),
    sa.ForeignKeyConstraint(['report_id'], ['damage_reports.id'], name=op.f('fk_damaged_houses_report_id_damage_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_damaged_houses')),
    sa.UniqueConstraint('report_id', 'household_id', name='report_household')
    )
    with op.batch_alter_table('damaged_houses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_damaged_houses_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_damaged_houses_report_id'), ['report_id'], unique=False)

    op.create_table('flood_point_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('flood_point_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('condition', sa.Enum('NORMAL', 'PONDING', 'FLOODED', 'RECEDED', name='site_condition', native_enum=False, length=24), nullable=False),
    sa.Column('water_depth_cm', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('reported_by', sa.String(length=64), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_flood_point_reports_event_id_events')),
    sa.ForeignKeyConstraint(['flood_point_id'], ['flood_points.id'], name=op.f('fk_flood_point_reports_flood_point_id_flood_points')),
    sa.ForeignKeyConstraint(['village_id'], ['regions.id'], name=op.f('fk_flood_point_reports_village_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flood_point_reports'))
    )
    with op.batch_alter_table('flood_point_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flood_point_reports_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flood_point_reports_flood_point_id'), ['flood_point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flood_point_reports_village_id'), ['village_id'], unique=False)

    op.create_table('event_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('damage_report_id', sa.Integer(), nullable=True),
    sa.Column('flood_point_report_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['damage_report_id'], ['damage_reports.id'], name=op.f('fk_event_outbox_damage_report_id_damage_reports')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_outbox_event_id_events')),
    sa.ForeignKeyConstraint(['flood_point_report_id'], ['flood_point_reports.id'], name=op.f('fk_event_outbox_flood_point_report_id_flood_point_reports')),
    sa.ForeignKeyConstraint(['village_id'], ['regions.id'], name=op.f('fk_event_outbox_village_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_outbox'))
    )
    with op.batch_alter_table('event_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_outbox_event_id'), ['event_id'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('damage_report_id', sa.Integer(), nullable=True),
    sa.Column('flood_point_report_id', sa.Integer(), nullable=True),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('display_key', sa.String(length=80), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=80), nullable=False),
    sa.Column('caption', sa.String(length=256), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(damage_report_id IS NULL) <> (flood_point_report_id IS NULL)', name=op.f('ck_photos_one_owner')),
    sa.ForeignKeyConstraint(['damage_report_id'], ['damage_reports.id'], name=op.f('fk_photos_damage_report_id_damage_reports')),
    sa.ForeignKeyConstraint(['flood_point_report_id'], ['flood_point_reports.id'], name=op.f('fk_photos_flood_point_report_id_flood_point_reports')),
    sa.ForeignKeyConstraint(['village_id'], ['regions.id'], name=op.f('fk_photos_village_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_damage_report_id'), ['damage_report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_flood_point_report_id'), ['flood_point_report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_village_id'), ['village_id'], unique=False)

    with op.batch_alter_table('flood_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('condition', sa.Enum('NORMAL', 'PONDING', 'FLOODED', 'RECEDED', name='site_condition', native_enum=False, length=24), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('flood_points', schema=None) as batch_op:
        batch_op.drop_column('condition')

    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_village_id'))
        batch_op.drop_index(batch_op.f('ix_photos_flood_point_report_id'))
        batch_op.drop_index(batch_op.f('ix_photos_damage_report_id'))

    op.drop_table('photos')
    with op.batch_alter_table('event_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_outbox_event_id'))

    op.drop_table('event_outbox')
    with op.batch_alter_table('flood_point_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flood_point_reports_village_id'))
        batch_op.drop_index(batch_op.f('ix_flood_point_reports_flood_point_id'))
        batch_op.drop_index(batch_op.f('ix_flood_point_reports_event_id'))

    op.drop_table('flood_point_reports')
    with op.batch_alter_table('damaged_houses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_damaged_houses_report_id'))
        batch_op.drop_index(batch_op.f('ix_damaged_houses_household_id'))

    op.drop_table('damaged_houses')
    with op.batch_alter_table('affected_enterprises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_affected_enterprises_report_id'))
        batch_op.drop_index(batch_op.f('ix_affected_enterprises_enterprise_id'))

    op.drop_table('affected_enterprises')
    with op.batch_alter_table('damage_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_damage_reports_event_village')

    op.drop_table('damage_reports')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_region_id'))

    op.drop_table('events')
