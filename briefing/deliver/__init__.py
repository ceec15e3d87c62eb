"""Delivery channels: Telegram and email."""
