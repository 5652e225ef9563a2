"""Every write of the ledger, one function each (ADR 15)."""
