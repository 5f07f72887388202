"""Match Halcyon Pay settlement batches against the internal ledger."""

from dataclasses import dataclass

SETTLEMENT_TOLERANCE_CENTS = 2


@dataclass
class SettlementBatch:
    batch_reference: str
    gross_amount_cents: int
    refund_total_cents: int


class LedgerReconciler:
    def __init__(self, ledger_client, customer_tier="standard"):
        self.ledger_client = ledger_client
        self.customer_tier = customer_tier

    def reconcile_batch(self, batch: SettlementBatch) -> bool:
        expected_net_cents = batch.gross_amount_cents - batch.refund_total_cents
        booked_net_cents = self.ledger_client.net_for_batch(batch.batch_reference)
        drift_cents = abs(expected_net_cents - booked_net_cents)
        return drift_cents <= SETTLEMENT_TOLERANCE_CENTS
