"""stories, story membership, follows, problem reports (issue 12)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import briefing.store.schema


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('headline', sa.Text(), nullable=False),
    sa.Column('first_seen', briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen', briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('brief', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_stories_last_seen'), 'stories', ['last_seen'], unique=False)
    op.create_table('story_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('outlet', sa.String(length=200), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('embedding', sa.JSON(), nullable=True),
    sa.Column('entities', sa.JSON(), nullable=False),
    sa.Column('joined_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('article_id')
    )
    op.create_index(op.f('ix_story_articles_story_id'), 'story_articles', ['story_id'], unique=False)
    op.create_table('story_follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('told', sa.JSON(), nullable=True),
    sa.Column('told_version', sa.Integer(), nullable=False),
    sa.Column('created_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subscriber_id', 'story_id', name='uq_story_follow')
    )
    op.create_index(op.f('ix_story_follows_story_id'), 'story_follows', ['story_id'], unique=False)
    op.create_index(op.f('ix_story_follows_subscriber_id'), 'story_follows', ['subscriber_id'], unique=False)
    op.create_table('brief_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('created_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', briefing.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_brief_flags_status'), 'brief_flags', ['status'], unique=False)
    op.create_index(op.f('ix_brief_flags_story_id'), 'brief_flags', ['story_id'], unique=False)


def downgrade() -> None:
    op.drop_table('brief_flags')
    op.drop_table('story_follows')
    op.drop_table('story_articles')
    op.drop_table('stories')
