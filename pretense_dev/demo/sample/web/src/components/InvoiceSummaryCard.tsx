import React from "react";

export interface InvoiceSummaryProps {
  invoiceNumber: string;
  amountDueCents: number;
  customerTier: "standard" | "enterprise";
}

export const formatAmountDue = (amountDueCents: number): string =>
  `$${(amountDueCents / 100).toFixed(2)}`;

export function InvoiceSummaryCard({ invoiceNumber, amountDueCents, customerTier }: InvoiceSummaryProps) {
  const showPriorityBadge = customerTier === "enterprise";
  return (
    <section className="invoice-summary">
      <h2>Invoice {invoiceNumber}</h2>
      <p>{formatAmountDue(amountDueCents)}</p>
      {showPriorityBadge && <PriorityBadge />}
    </section>
  );
}

function PriorityBadge() {
  return <span className="badge">priority</span>;
}
