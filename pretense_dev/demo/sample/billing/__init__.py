from .ledger_reconciler import LedgerReconciler, SettlementBatch

__all__ = ["LedgerReconciler", "SettlementBatch"]
