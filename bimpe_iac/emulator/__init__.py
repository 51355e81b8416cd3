"""The local BimpeAI server: FastAPI behind a plain-ASGI gateway, SQLite (docs/emulator.md)."""
