"""The registry's fast path: the few statements every layer and manifest request runs, as plain
SQL prepared once per PostgreSQL connection (`statements`; measured in docs/performance.md)."""
