use std::fmt;

pub struct ChargebackCase {
    pub dispute_reference: String,
    pub disputed_amount_cents: u64,
}

impl ChargebackCase {
    pub fn evidence_deadline_days(&self) -> u32 {
        if self.disputed_amount_cents > 100_000 { 7 } else { 14 }
    }
}

impl fmt::Display for ChargebackCase {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "chargeback {}", self.dispute_reference)
    }
}
