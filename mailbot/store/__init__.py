"""The record: the ledger, the archive, crash-safe writes, locks, file modes, machine faults."""
