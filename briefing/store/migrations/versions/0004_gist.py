"""briefs.gist: the model-written one-sentence gist (issue 10)

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('briefs') as batch:
        batch.add_column(sa.Column('gist', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('briefs') as batch:
        batch.drop_column('gist')
