"""digests, email codes, leases, job state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 16:44:29.562373
"""
from alembic import op
import sqlalchemy as sa
import briefing.store.schema


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_state',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('last_run_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_run_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('leases',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('digest_date', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('brief_ids', sa.JSON(), nullable=False),
    sa.Column('period_start', briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('period_end', briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subscriber_id', 'digest_date', 'channel', name='uq_digest')
    )
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_digests_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('email_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('code_hash', sa.String(length=128), nullable=False),
    sa.Column('expires_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subscriber_id')
    )


def downgrade() -> None:
    op.drop_table('email_codes')
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digests_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_digests_status'))

    op.drop_table('digests')
    op.drop_table('leases')
    op.drop_table('job_state')
