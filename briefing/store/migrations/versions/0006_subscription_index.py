"""index on subscriptions (kind, value): subscribers matched to a brief by index search

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 17:00:00

Issue 13: queueing a brief matched subscriptions by (kind, value) with a scan of the whole
table (56 ms at 100,000 subscribers who follow something else, docs/benchmarks.md).
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_subscriptions_kind_value', ['kind', 'value'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriptions_kind_value')
