"""Request and response models (pydantic v2). Request models forbid unknown fields and never
accept server-owned fields (id, status, created_at, updated_at, age)."""
