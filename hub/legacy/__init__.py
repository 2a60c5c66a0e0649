"""Importing legacy ledgers (台账): normalising what people typed, and generated messy ledgers for tests."""
