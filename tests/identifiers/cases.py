"""Realistic snippets (a fictional billing product) with exactly what each defines.

Each case lists the names `extract_definitions` must return with their kinds
(`expected`), the names the query finds but a stop list must keep out, with the
list that does it (`stopped`), and names the snippet only uses, which no query may
capture (`used`), and names a definition binds to an API we do not own (`excluded`:
``@Override`` methods, ``const { Router } = require("express")``).  Written by
hand for these tests; shared by the per-language tests and the shape tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True)
class Case:
    language: str
    path: str
    source: str
    expected: dict[str, str]
    stopped: dict[str, str] = field(default_factory=dict)
    used: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()  # caught by @override / @external


PYTHON = Case(
    "python",
    "billing/refunds.py",
    '''\
"""Refund reconciliation for the billing ledger."""
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field

MAX_REFUND_CENTS = 50_000
logger = logging.getLogger(__name__)


class CustomerTier(enum.Enum):
    GOLD = "gold"
    PLATINUM = "platinum"


@dataclass
class RefundRequest:
    invoice_id: str
    refund_total_cents: int = 0
    reasons: list[str] = field(default_factory=list)

    def __init__(self, invoice_id: str, *, customer_tier: CustomerTier) -> None:
        self.invoice_id = invoice_id
        self.customer_tier = customer_tier

    def __str__(self) -> str:
        return json.dumps({"invoice": self.invoice_id})

    def items(self):
        return list(self.reasons)

    @property
    def is_premium(self) -> bool:
        return self.customer_tier is CustomerTier.PLATINUM


def reconcile_refunds(ledger_rows, *extra_rows, tolerance_cents=5, **options):
    totals_by_invoice = defaultdict(int)
    for invoice_id, amount_cents in ledger_rows:
        totals_by_invoice[invoice_id] += amount_cents
    balance = sum(totals_by_invoice.values())
    if (overdraft_cents := balance - MAX_REFUND_CENTS) > 0:
        logger.warning("overdraft %s", overdraft_cents)
    with open("audit.log") as audit_handle:
        audit_handle.write(str(balance))
    try:
        settled = [row for row in ledger_rows if row]
    except ValueError as settlement_error:
        raise RuntimeError(str(settlement_error))
    apply_fee = lambda gross_cents, fee_rate=0.02: gross_cents * fee_rate
    return settled, apply_fee
''',
    expected={
        "CustomerTier": "class",
        "GOLD": "member",
        "MAX_REFUND_CENTS": "constant",
        "PLATINUM": "member",
        "RefundRequest": "class",
        "amount_cents": "variable",
        "apply_fee": "variable",
        "audit_handle": "variable",
        "balance": "variable",
        "customer_tier": "field",
        "extra_rows": "parameter",
        "fee_rate": "parameter",
        "gross_cents": "parameter",
        "invoice_id": "field",
        "is_premium": "method",
        "ledger_rows": "parameter",
        "overdraft_cents": "variable",
        "reconcile_refunds": "function",
        "refund_total_cents": "field",
        "settled": "variable",
        "settlement_error": "variable",
        "tolerance_cents": "parameter",
        "totals_by_invoice": "variable",
    },
    stopped={
        "__init__": "dunder",
        "__str__": "dunder",
        "items": "stdlib",
        "logger": "codewords",
        "options": "builtins",  # on the Ruby list (every language's lists apply)
        "reasons": "codewords",
        "row": "codewords",
        "self": "builtins",
    },
    used=words(
        "json logging defaultdict dataclass field getLogger dumps warning enum Enum "
        "property sum open write RuntimeError ValueError default_factory"
    ),
)

JAVASCRIPT = Case(
    "javascript",
    "web/src/RefundSummary.jsx",
    """\
import React, { useState, useEffect } from 'react';
import { formatCents as formatMoney } from './money';
const express = require('express');
const { Router } = require('express');

export const REFUND_WINDOW_DAYS = 30;
const ledgerCache = new Map();

export function RefundSummary({ customerTier, refundTotalCents = 0, onApprove, ...rest }) {
  const [isExpanded, setExpanded] = useState(false);
  const { data, error } = useInvoiceQuery(customerTier);
  useEffect(() => {
    document.title = `Refund ${refundTotalCents}`;
  }, [refundTotalCents]);
  return (
    <RefundPanel tier={customerTier} onClick={() => setExpanded(!isExpanded)}>
      {data.lines.map((lineItem) => <InvoiceLine key={lineItem.id} item={lineItem} />)}
    </RefundPanel>
  );
}

const InvoiceLine = ({ item }) => <li className="line">{item.label}</li>;

class LedgerStore extends React.Component {
  #pendingRefunds = [];
  state = { balance: 0 };
  constructor(props) {
    super(props);
    this.gatewayClient = props.gateway;
  }
  componentDidMount() {}
  toString() { return 'LedgerStore'; }
  enqueueRefund(refundRequest) {
    try {
      this.#pendingRefunds.push(refundRequest);
    } catch (enqueueError) {
      console.error(enqueueError);
    }
  }
  render() { return null; }
}

const router = Router();
router.post('/refunds', (req, res, next) => res.json({ refundId: req.body.invoiceId }));
module.exports.settleBatch = function settleInvoices(batchId, { dryRun }) {
  for (const [invoiceId, amountCents] of ledgerCache) {}
};
""",
    expected={
        "InvoiceLine": "function",
        "LedgerStore": "class",
        "REFUND_WINDOW_DAYS": "constant",
        "RefundSummary": "function",
        "amountCents": "variable",
        "balance": "field",
        "batchId": "parameter",
        "customerTier": "parameter",
        "dryRun": "parameter",
        "enqueueError": "variable",
        "enqueueRefund": "method",
        "formatMoney": "variable",
        "gatewayClient": "field",
        "invoiceId": "variable",
        "isExpanded": "variable",
        "ledgerCache": "variable",
        "lineItem": "parameter",
        "onApprove": "parameter",
        "pendingRefunds": "field",
        "refundId": "field",
        "refundRequest": "parameter",
        "refundTotalCents": "parameter",
        "router": "variable",
        "setExpanded": "variable",
        "settleBatch": "method",
        "settleInvoices": "function",
    },
    stopped={
        "componentDidMount": "overrides",
        "constructor": "overrides",
        "data": "stdlib",
        "error": "keywords",  # C#'s `#error` directive (every language's lists apply)
        "item": "keywords",  # a Rust macro fragment specifier (every language's lists apply)
        "next": "stdlib",
        "props": "stdlib",
        "render": "overrides",
        "req": "stdlib",
        "res": "stdlib",
        "rest": "codewords",
        "state": "stdlib",
        "toString": "overrides",
    },
    used=words(
        "React useState useEffect document title Map console push json body lines map "
        "post module exports key tier onClick label"
    ),
    excluded=words("express Router"),
)

TYPESCRIPT = Case(
    "typescript",
    "web/src/gateway/stripeBridge.ts",
    """\
import { EventEmitter } from 'events';
import type { Invoice as LedgerInvoice } from './ledger';

export enum PaymentState { Pending = 'pending', Settled = 'settled', ChargedBack = 'charged_back' }
export type CustomerTier = 'gold' | 'platinum';
export interface RefundPolicy<TAmount extends number = number> {
  readonly maxRefundCents: TAmount;
  allowPartial?: boolean;
  approveRefund(invoiceId: string, reasonCode?: string): Promise<boolean>;
}

namespace Billing.Proration {
  export const DEFAULT_ANCHOR_DAY = 1;
}

export abstract class BaseGateway extends EventEmitter {
  protected abstract chargeCard(tokenRef: string): Promise<void>;
  toJSON() { return {}; }
}

export class StripeBridge extends BaseGateway implements RefundPolicy {
  static instanceCount = 0;
  readonly maxRefundCents = 10_000;
  private settlementQueue: LedgerInvoice[] = [];
  constructor(private readonly webhookSecretRef: string, public retryBudget = 3) { super(); }
  protected override async chargeCard(tokenRef: string): Promise<void> {}
  override emit(eventName: string, ...payload: unknown[]): boolean {
    return super.emit(eventName, ...payload);
  }
  async approveRefund(invoiceId: string): Promise<boolean> {
    const { customerTier, lastPaymentAt: paidAt } = await this.lookup(invoiceId);
    let proratedCents: number = 0;
    return customerTier === 'gold' && paidAt > proratedCents;
  }
}

export const computeLateFee = <TInvoice extends { dueCents: number }>(invoice: TInvoice): number =>
  Math.round(invoice.dueCents * 0.015);
""",
    expected={
        "BaseGateway": "class",
        "Billing": "module",
        "ChargedBack": "member",
        "CustomerTier": "type",
        "DEFAULT_ANCHOR_DAY": "constant",
        "LedgerInvoice": "variable",
        "PaymentState": "type",
        "Proration": "module",
        "RefundPolicy": "type",
        "Settled": "member",
        "StripeBridge": "class",
        "TAmount": "type",
        "TInvoice": "type",
        "allowPartial": "field",
        "approveRefund": "method",
        "chargeCard": "method",
        "computeLateFee": "function",
        "customerTier": "variable",
        "dueCents": "field",
        "eventName": "parameter",
        "instanceCount": "field",
        "invoice": "parameter",
        "invoiceId": "parameter",
        "maxRefundCents": "field",
        "paidAt": "variable",
        "proratedCents": "variable",
        "reasonCode": "parameter",
        "retryBudget": "field",
        "settlementQueue": "field",
        "tokenRef": "parameter",
        "webhookSecretRef": "field",
    },
    stopped={
        "Pending": "codewords",
        "constructor": "overrides",
        "payload": "codewords",
        "toJSON": "overrides",
    },
    used=words("EventEmitter events Promise Math round lookup lastPaymentAt"),
    excluded=words("emit"),
)

TSX = Case(
    "tsx",
    "web/src/InvoiceTable.tsx",
    """\
import React, { useMemo } from 'react';

interface InvoiceTableProps {
  invoices: ReadonlyArray<{ invoiceNumber: string; amountDueCents: number }>;
  customerTier: 'gold' | 'platinum';
  onRefundClick?: (invoiceNumber: string) => void;
}

export const InvoiceTable: React.FC<InvoiceTableProps> = ({
  invoices,
  customerTier,
  onRefundClick,
}) => {
  const outstandingCents = useMemo(
    () => invoices.reduce((sum, inv) => sum + inv.amountDueCents, 0),
    [invoices],
  );
  return (
    <table className="invoice-table">
      <tbody>
        {invoices.map(({ invoiceNumber, amountDueCents }) => (
          <InvoiceRow
            key={invoiceNumber}
            due={amountDueCents}
            onClick={() => onRefundClick?.(invoiceNumber)}
          />
        ))}
      </tbody>
      <TotalFooter tier={customerTier} totalCents={outstandingCents} />
    </table>
  );
};

function InvoiceRow({ due, children }: { due: number; children?: React.ReactNode }) {
  const formattedDue = (due / 100).toFixed(2);
  return <tr><td>{formattedDue}</td>{children}</tr>;
}

export default function TotalFooter(props: { tier: string; totalCents: number }) {
  return <tfoot><tr><td>{props.totalCents}</td></tr></tfoot>;
}
""",
    expected={
        "InvoiceRow": "function",
        "InvoiceTable": "function",
        "InvoiceTableProps": "type",
        "TotalFooter": "function",
        "amountDueCents": "field",
        "customerTier": "field",
        "formattedDue": "variable",
        "inv": "parameter",
        "invoiceNumber": "field",
        "invoices": "field",
        "onRefundClick": "field",
        "outstandingCents": "variable",
        "tier": "field",
        "totalCents": "field",
    },
    stopped={
        "children": "stdlib",
        "due": "codewords",
        "props": "stdlib",
        "sum": "builtins",  # Python's builtin (every language's lists apply)
    },
    used=words("React useMemo ReadonlyArray reduce map toFixed className key onClick FC ReactNode"),
)

GO = Case(
    "go",
    "services/dunning/retry.go",
    """\
// Package dunning retries failed invoice payments.
package dunning

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

const MaxRetryAttempts = 4

var ErrCardDeclined = errors.New("card declined")

type CustomerTier int

const (
	TierStandard CustomerTier = iota
	TierPlatinum
)

type RetrySchedule struct {
	InvoiceID     string
	attemptsLeft  int
	nextAttemptAt time.Time
	sync.Mutex
}

type PaymentGateway interface {
	ChargeInvoice(ctx context.Context, invoiceID string, amountCents int64) error
}

func NewRetrySchedule(invoiceID string, tier CustomerTier) *RetrySchedule {
	backoffWindow := 24 * time.Hour
	if tier == TierPlatinum {
		backoffWindow /= 2
	}
	return &RetrySchedule{
		InvoiceID:     invoiceID,
		attemptsLeft:  MaxRetryAttempts,
		nextAttemptAt: time.Now().Add(backoffWindow),
	}
}

func (s *RetrySchedule) String() string { return fmt.Sprintf("retry %s", s.InvoiceID) }

func (s *RetrySchedule) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintln(w, s.String())
}

func (s *RetrySchedule) runAttempt(
	ctx context.Context, gateway PaymentGateway, opts ...RetryOption,
) (settled bool, err error) {
	for attemptIndex, option := range opts {
		_ = attemptIndex
		option(s)
	}
	chargeErr := gateway.ChargeInvoice(ctx, s.InvoiceID, 1999)
	switch declineReason := chargeErr.(type) {
	case *DeclineError:
		return false, declineReason
	}
	return chargeErr == nil, nil
}

type RetryOption func(*RetrySchedule)
""",
    expected={
        "ChargeInvoice": "method",
        "CustomerTier": "type",
        "ErrCardDeclined": "variable",
        "InvoiceID": "field",
        "MaxRetryAttempts": "constant",
        "NewRetrySchedule": "function",
        "PaymentGateway": "type",
        "RetryOption": "type",
        "RetrySchedule": "type",
        "TierPlatinum": "constant",
        "TierStandard": "constant",
        "amountCents": "parameter",
        "attemptIndex": "variable",
        "attemptsLeft": "field",
        "backoffWindow": "variable",
        "chargeErr": "variable",
        "declineReason": "variable",
        "dunning": "module",
        "gateway": "parameter",
        "invoiceID": "parameter",
        "nextAttemptAt": "field",
        "runAttempt": "method",
        "settled": "parameter",
        "tier": "parameter",
    },
    stopped={
        # Every language's lists apply: JavaScript's `err` (callbacks), Ruby's `opts`.
        "ServeHTTP": "overrides",
        "String": "overrides",
        "ctx": "codewords",
        "err": "stdlib",
        "option": "codewords",
        "opts": "builtins",
    },
    used=words(
        "context errors fmt http time Context Sprintf Fprintln Now Add Hour "
        "ResponseWriter Request Mutex sync DeclineError"
    ),
)

JAVA = Case(
    "java",
    "android/src/DunningScheduler.java",
    """\
package com.acmepay.billing.dunning;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

public final class DunningScheduler implements Runnable, Comparable<DunningScheduler> {
    private static final int MAX_ATTEMPTS = 4;
    private final List<Invoice> overdueInvoices;
    private Duration graceWindow = Duration.ofDays(3);

    public DunningScheduler(List<Invoice> overdueInvoices, CustomerTier customerTier) {
        this.overdueInvoices = overdueInvoices;
    }

    @Override
    public void run() {
        for (Invoice overdue : overdueInvoices) {
            scheduleReminder(overdue, MAX_ATTEMPTS);
        }
    }

    @Override
    public int compareTo(DunningScheduler other) { return 0; }

    @Override
    public String toString() { return "DunningScheduler"; }

    public Optional<ReminderNotice> scheduleReminder(final Invoice invoice, int attemptBudget) {
        long lateFeeCents = Math.round(invoice.amountDueCents() * 0.015);
        try (var reminderWriter = openOutbox()) {
            reminderWriter.append(String.valueOf(lateFeeCents));
        } catch (java.io.IOException outboxFailure) {
            return Optional.empty();
        }
        invoice.lines().forEach(lineItem -> System.out.println(lineItem));
        return Optional.of(new ReminderNotice(invoice.invoiceNumber(), lateFeeCents));
    }

    enum CustomerTier { STANDARD, PLATINUM_PLUS }

    record ReminderNotice(String invoiceNumber, long lateFeeCents) {}

    interface ReminderChannel { void deliverNotice(ReminderNotice notice); }

    public static void main(String[] args) {
        new DunningScheduler(List.of(), CustomerTier.STANDARD).run();
    }
}
""",
    expected={
        "CustomerTier": "type",
        "DunningScheduler": "class",
        "MAX_ATTEMPTS": "constant",
        "PLATINUM_PLUS": "member",
        "ReminderChannel": "type",
        "ReminderNotice": "class",
        "acmepay": "module",
        "attemptBudget": "parameter",
        "billing": "module",
        "customerTier": "parameter",
        "deliverNotice": "method",
        "dunning": "module",
        "graceWindow": "field",
        "invoice": "parameter",
        "invoiceNumber": "field",
        "lateFeeCents": "field",
        "lineItem": "parameter",
        "outboxFailure": "variable",
        "overdue": "variable",
        "overdueInvoices": "field",
        "reminderWriter": "variable",
        "scheduleReminder": "method",
    },
    stopped={
        "STANDARD": "codewords",
        "args": "builtins",
        "com": "codewords",
        "main": "overrides",
        "notice": "codewords",
        "other": "codewords",
    },
    used=words(
        "java time util Duration List Optional Runnable Comparable ofDays Invoice Math "
        "round amountDueCents openOutbox append valueOf IOException empty lines forEach "
        "System println"
    ),
    excluded=words("run compareTo toString"),
)

CSHARP = Case(
    "csharp",
    "dotnet/TaxJurisdictionResolver.cs",
    """\
using System;
using System.Collections.Generic;
using System.Linq;

namespace AcmePay.Billing.Tax
{
    public sealed class TaxJurisdictionResolver : IDisposable
    {
        private const decimal DefaultVatRate = 0.2m;
        private readonly IDictionary<string, decimal> _ratesByRegion;
        public string HomeJurisdiction { get; init; }
        public event EventHandler<RateChangedArgs> RateChanged;

        public TaxJurisdictionResolver(
            IDictionary<string, decimal> ratesByRegion, string homeJurisdiction = "EU")
        {
            _ratesByRegion = ratesByRegion;
            HomeJurisdiction = homeJurisdiction;
        }

        public decimal ResolveRate(string postalCode, params string[] fallbackRegions)
        {
            var regionKey = postalCode.Substring(0, 2);
            foreach (var candidateRegion in fallbackRegions.Where(r => r.Length > 0))
            {
                if (_ratesByRegion.TryGetValue(candidateRegion, out var matchedRate))
                    return matchedRate;
            }
            decimal LocalSurcharge(decimal baseRate) => baseRate * 1.01m;
            return LocalSurcharge(DefaultVatRate);
        }

        public override string ToString() => $"resolver:{HomeJurisdiction}";
        public override bool Equals(object obj) =>
            obj is TaxJurisdictionResolver otherResolver
            && otherResolver.HomeJurisdiction == HomeJurisdiction;
        public override int GetHashCode() => HomeJurisdiction.GetHashCode();
        public void Dispose() { }
    }

    public enum FilingCadence { Monthly, Quarterly, SemiAnnual }

    public record RateChangedArgs(string RegionCode, decimal PreviousRate);

    public interface IRateSource { decimal FetchRate(string regionCode); }
}
""",
    expected={
        "AcmePay": "module",
        "Billing": "module",
        "DefaultVatRate": "constant",
        "FetchRate": "method",
        "FilingCadence": "type",
        "HomeJurisdiction": "field",
        "IRateSource": "type",
        "LocalSurcharge": "function",
        "Monthly": "member",
        "PreviousRate": "field",
        "Quarterly": "member",
        "RateChanged": "field",
        "RateChangedArgs": "class",
        "RegionCode": "field",
        "ResolveRate": "method",
        "SemiAnnual": "member",
        "Tax": "module",
        "TaxJurisdictionResolver": "class",
        "_ratesByRegion": "field",
        "baseRate": "parameter",
        "candidateRegion": "variable",
        "fallbackRegions": "parameter",
        "homeJurisdiction": "parameter",
        "matchedRate": "variable",
        "otherResolver": "variable",
        "postalCode": "parameter",
        "ratesByRegion": "parameter",
        "regionCode": "parameter",
        "regionKey": "variable",
    },
    stopped={
        "Dispose": "overrides",
        "obj": "codewords",
    },
    used=words(
        "System Collections Generic Linq IDisposable IDictionary EventHandler Substring "
        "Where Length TryGetValue"
    ),
    excluded=words("ToString Equals GetHashCode"),
)

RUBY = Case(
    "ruby",
    "ruby/lib/proration_calculator.rb",
    """\
require "bigdecimal"
require_relative "ledger"

module AcmePay
  module Proration
    GRACE_PERIOD_DAYS = 3

    class ProrationCalculator < BaseCalculator
      include Comparable
      attr_reader :plan_tier, :billing_anchor
      attr_accessor :credit_balance_cents

      def initialize(plan_tier, billing_anchor:, **options)
        @plan_tier = plan_tier
        @billing_anchor = billing_anchor
        @@calculators_built ||= 0
      end

      def self.for_subscription(subscription_record)
        new(subscription_record.tier, billing_anchor: subscription_record.anchor)
      end

      def prorated_amount(days_used, cycle_days = 30)
        daily_rate_cents = (monthly_price_cents / cycle_days.to_f)
        unused_lines = line_items.reject { |line_item| line_item.consumed? }
        unused_lines.each_with_index do |unused_line, position|
          puts "#{position}: #{unused_line}"
        end
        (daily_rate_cents * days_used).round
      rescue ZeroDivisionError => proration_error
        warn proration_error.message
        0
      end

      def upgrade_eligible? = plan_tier != :enterprise

      def to_s
        "ProrationCalculator(#{plan_tier})"
      end

      def each(&block)
        line_items.each(&block)
      end

      alias_method :refund_amount, :prorated_amount
    end
  end
end
""",
    expected={
        "AcmePay": "module",
        "GRACE_PERIOD_DAYS": "constant",
        "Proration": "module",
        "ProrationCalculator": "class",
        "billing_anchor": "field",
        "calculators_built": "field",
        "credit_balance_cents": "field",
        "cycle_days": "parameter",
        "daily_rate_cents": "variable",
        "days_used": "parameter",
        "for_subscription": "method",
        "line_item": "parameter",
        "plan_tier": "field",
        "prorated_amount": "method",
        "proration_error": "variable",
        "refund_amount": "method",
        "subscription_record": "parameter",
        "unused_line": "parameter",
        "unused_lines": "variable",
        "upgrade_eligible": "method",
    },
    stopped={
        "block": "builtins",
        "each": "stdlib",
        "initialize": "overrides",
        "options": "builtins",
        "position": "stdlib",  # Rust's Iterator::position (every language's lists apply)
        "to_s": "stdlib",
    },
    used=words(
        "bigdecimal ledger Comparable BaseCalculator monthly_price_cents line_items "
        "reject consumed each_with_index puts round ZeroDivisionError warn message to_f "
        "tier anchor"
    ),
)

RUST = Case(
    "rust",
    "payments/src/payout.rs",
    """\
//! Settlement of card payments into the ledger.
use std::collections::HashMap;
use std::fmt;

pub mod settlement_batch;

pub const MAX_BATCH_SIZE: usize = 500;

#[derive(Debug, Clone)]
pub struct PayoutBatch {
    pub batch_id: u64,
    merchant_account: String,
    pending_payouts: Vec<Payout>,
}

pub enum PayoutState {
    Queued,
    Settled { settled_at: u64 },
    Reversed(ReversalReason),
}

pub trait LedgerSink {
    fn record_payout(&mut self, payout_cents: i64) -> Result<(), LedgerError>;
}

impl PayoutBatch {
    pub fn new(batch_id: u64, merchant_account: String) -> Self {
        Self { batch_id, merchant_account, pending_payouts: Vec::new() }
    }

    pub fn settle_into<S: LedgerSink>(&mut self, ledger_sink: &mut S) -> usize {
        let mut settled_count = 0;
        let totals_by_currency: HashMap<String, i64> = HashMap::new();
        for (payout_index, payout) in self.pending_payouts.iter().enumerate() {
            if let Some(reversal_note) = payout.reversal.as_ref() {
                continue;
            }
            match payout.state {
                PayoutState::Settled { settled_at } => settled_count += settled_at as usize,
                PayoutState::Reversed(reversal_reason) => drop(reversal_reason),
                _ => {}
            }
        }
        let net_cents = |gross_cents: i64, fee_bps| gross_cents - gross_cents * fee_bps / 10_000;
        settled_count
    }
}

impl fmt::Display for PayoutBatch {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "batch {}", self.batch_id)
    }
}

impl LedgerSink for PayoutBatch {
    fn record_payout(&mut self, payout_cents: i64) -> Result<(), LedgerError> { Ok(()) }
}

impl From<u64> for PayoutBatch {
    fn from(batch_id: u64) -> Self { PayoutBatch::new(batch_id, String::new()) }
}
""",
    expected={
        "LedgerSink": "type",
        "MAX_BATCH_SIZE": "constant",
        "PayoutBatch": "class",
        "PayoutState": "type",
        "Settled": "member",
        "batch_id": "field",
        "fee_bps": "parameter",
        "gross_cents": "parameter",
        "ledger_sink": "parameter",
        "merchant_account": "field",
        "net_cents": "variable",
        "payout": "variable",
        "payout_cents": "parameter",
        "payout_index": "variable",
        "pending_payouts": "field",
        "record_payout": "method",
        "reversal_note": "variable",
        "reversal_reason": "variable",
        "settle_into": "method",
        "settled_at": "field",
        "settled_count": "variable",
        "settlement_batch": "module",
        "totals_by_currency": "variable",
    },
    stopped={
        "Queued": "codewords",
        "Reversed": "codewords",
        "formatter": "codewords",
        "new": "stdlib",
    },
    used=words(
        "std collections HashMap Debug Clone Vec String LedgerError Payout ReversalReason "
        "iter enumerate reversal as_ref state Formatter Result Some Ok"
    ),
    excluded=words("fmt from"),
)

PHP = Case(
    "php",
    "app/Refunds/RefundReconciler.php",
    """\
<?php
declare(strict_types=1);

namespace AcmePay\\Refunds;

use Illuminate\\Support\\Collection;
use AcmePay\\Ledger\\LedgerEntry as PostedEntry;

const MAX_REFUND_CENTS = 50000;
define('REFUND_WINDOW_DAYS', 30);

interface RefundPolicy
{
    public function allowsRefund(Invoice $invoice): bool;
}

trait TracksAuditTrail
{
    protected array $auditEntries = [];
}

enum CustomerTier: string
{
    case Gold = 'gold';
    case Platinum = 'platinum';
}

final class RefundReconciler implements RefundPolicy, \\Countable
{
    use TracksAuditTrail;

    public const DEFAULT_CURRENCY = 'EUR';
    private static int $reconcilersBuilt = 0;

    public function __construct(
        private readonly LedgerGateway $ledgerGateway,
        int $toleranceCents = 5,
    ) {
        $this->toleranceCents = $toleranceCents;
    }

    #[\\Override]
    public function allowsRefund(Invoice $invoice): bool
    {
        return $invoice->isPaid();
    }

    public function count(): int
    {
        return count($this->auditEntries);
    }

    public function reconcileRefunds(array $ledgerRows, string ...$extraRows): int
    {
        $totalsByInvoice = [];
        foreach ($ledgerRows as $invoiceId => $amountCents) {
            $totalsByInvoice[$invoiceId] = ($totalsByInvoice[$invoiceId] ?? 0) + $amountCents;
        }
        [$firstExtra, $secondExtra] = $extraRows;
        $netCents = fn (int $grossCents) => $grossCents - $this->toleranceCents;
        try {
            $this->ledgerGateway->post(new PostedEntry($netCents(array_sum($totalsByInvoice))));
        } catch (\\RuntimeException $postingError) {
            report($postingError);
        }
        $result = Collection::make($totalsByInvoice);
        return $result->sum();
    }

    public function __toString(): string
    {
        return sprintf('%s', self::DEFAULT_CURRENCY);
    }
}

function settle_refund_batch(int $batchNumber): void
{
    static $settledBatches = 0;
}
""",
    expected={
        "AcmePay": "module",
        "CustomerTier": "type",
        "DEFAULT_CURRENCY": "constant",
        "Gold": "member",
        "MAX_REFUND_CENTS": "constant",
        "Platinum": "member",
        "PostedEntry": "name",
        "REFUND_WINDOW_DAYS": "constant",
        "RefundPolicy": "type",
        "RefundReconciler": "class",
        "Refunds": "module",
        "TracksAuditTrail": "type",
        "allowsRefund": "method",
        "amountCents": "variable",
        "auditEntries": "field",
        "batchNumber": "parameter",
        "extraRows": "parameter",
        "firstExtra": "variable",
        "grossCents": "parameter",
        "invoice": "parameter",
        "invoiceId": "variable",
        "ledgerGateway": "field",
        "ledgerRows": "parameter",
        "netCents": "variable",
        "postingError": "variable",
        "reconcileRefunds": "method",
        "reconcilersBuilt": "field",
        "secondExtra": "variable",
        "settle_refund_batch": "function",
        "settledBatches": "variable",
        "toleranceCents": "field",
        "totalsByInvoice": "variable",
    },
    stopped={
        "__construct": "overrides",
        "__toString": "overrides",
        "count": "overrides",
        "result": "codewords",
    },
    used=words(
        "Illuminate Support Collection LedgerEntry Invoice Countable LedgerGateway isPaid "
        "post RuntimeException report make sum sprintf array_sum strict_types"
    ),
)

KOTLIN = Case(
    "kotlin",
    "refunds/src/main/kotlin/RefundReconciler.kt",
    """\
package com.acmepay.refunds

import okhttp3.OkHttpClient
import com.acmepay.ledger.LedgerEntry as PostedEntry

const val MAX_REFUND_CENTS = 50_000
typealias InvoiceTotals = Map<String, Long>

interface RefundPolicy {
    fun allowsRefund(invoice: Invoice): Boolean
}

enum class CustomerTier(val discountBps: Int) { GOLD(10), PLATINUM(20) }

sealed class RefundOutcome {
    object Rejected : RefundOutcome()
    data class Approved(val approvedCents: Long, var approvalNote: String? = null) : RefundOutcome()
}

class RefundReconciler(
    private val ledgerGateway: LedgerGateway,
    toleranceCents: Int = 5,
) : RefundPolicy {
    companion object {
        private const val DEFAULT_CURRENCY = "EUR"
        var reconcilersBuilt = 0
    }

    private val pendingRows = mutableListOf<LedgerRow>()
    var lastSettledAt: Long = 0
        set(value) {
            field = value
        }

    override fun allowsRefund(invoice: Invoice): Boolean = invoice.isPaid

    override fun toString(): String = "RefundReconciler($DEFAULT_CURRENCY)"

    fun reconcileRefunds(ledgerRows: List<LedgerRow>, vararg extraRows: String): Int {
        val totalsByInvoice = mutableMapOf<String, Long>()
        for ((invoiceId, amountCents) in ledgerRows) {
            totalsByInvoice[invoiceId] = amountCents
        }
        val (firstExtra, secondExtra) = extraRows
        val netCents = { grossCents: Long -> grossCents - 1 }
        ledgerRows.forEach { ledgerRow -> println(ledgerRow.cents) }
        try {
            ledgerGateway.post(PostedEntry(netCents(totalsByInvoice.size.toLong())))
        } catch (postingError: IOException) {
            report(postingError)
        }
        return when (val settledState = ledgerGateway.state) {
            is Settled -> settledState.count
            else -> 0
        }
    }

    fun <PayoutKind : Any> Invoice.settleWith(settlementHook: (Long) -> Unit): PayoutKind? = null
}

fun settleRefundBatch(batchNumber: Int) {
    var settledBatches = 0
    settledBatches += batchNumber
}
""",
    expected={
        "Approved": "class",
        "CustomerTier": "class",
        "DEFAULT_CURRENCY": "constant",
        "GOLD": "member",
        "InvoiceTotals": "type",
        "MAX_REFUND_CENTS": "constant",
        "PLATINUM": "member",
        "PayoutKind": "type",
        "PostedEntry": "name",
        "RefundOutcome": "class",
        "RefundPolicy": "type",
        "RefundReconciler": "class",
        "acmepay": "module",
        "allowsRefund": "method",
        "amountCents": "variable",
        "approvalNote": "field",
        "approvedCents": "field",
        "batchNumber": "parameter",
        "discountBps": "field",
        "extraRows": "parameter",
        "firstExtra": "variable",
        "grossCents": "parameter",
        "invoice": "parameter",
        "invoiceId": "variable",
        "lastSettledAt": "field",
        "ledgerGateway": "field",
        "ledgerRow": "parameter",
        "ledgerRows": "parameter",
        "netCents": "variable",
        "pendingRows": "field",
        "postingError": "variable",
        "reconcileRefunds": "method",
        "reconcilersBuilt": "field",
        "refunds": "module",
        "secondExtra": "variable",
        "settleRefundBatch": "function",
        "settleWith": "method",
        "settledBatches": "variable",
        "settledState": "variable",
        "settlementHook": "parameter",
        "toleranceCents": "parameter",
        "totalsByInvoice": "variable",
    },
    stopped={
        "Rejected": "codewords",
        "com": "codewords",
        "value": "keywords",
    },
    used=words(
        "okhttp3 OkHttpClient LedgerEntry Invoice LedgerGateway LedgerRow isPaid mutableMapOf "
        "forEach println cents post IOException report Settled count state toLong size"
    ),
    excluded=words("toString"),
)

C = Case(
    "c",
    "ledger/src/reconcile.c",
    """\
#include <stdio.h>
#include <stdlib.h>

#define MAX_REFUND_CENTS 50000
#define LEDGER_MIN(left_cents, right_cents) \\
    ((left_cents) < (right_cents) ? (left_cents) : (right_cents))

typedef struct ledger_row {
    int invoice_id;
    long *amount_cents;
    char memo_text[16];
    void (*on_posted)(int posted_code);
} ledger_row_t;

typedef int (*refund_hook)(int);

enum posting_state { POSTED, REVERSED };

union payout_amount { long whole_cents; double fx_ratio; };

static const char *tier_names[] = {"gold", "platinum"};

int reconcile_refunds(const ledger_row_t *ledger_rows, size_t row_count, char **extra_rows)
{
    long totals_by_invoice = 0;
    for (size_t row_index = 0; row_index < row_count; row_index++) {
        totals_by_invoice += *ledger_rows[row_index].amount_cents;
    }
    int *posting_ptr = NULL, posting_count = 0;
    printf("%ld\\n", totals_by_invoice);
    return LEDGER_MIN(posting_count, MAX_REFUND_CENTS);
}

static void settle_refund_batch(int batch_number);

int main(int argc, char **argv) { return reconcile_refunds(NULL, 0, argv); }
""",
    expected={
        "LEDGER_MIN": "function",
        "MAX_REFUND_CENTS": "constant",
        "POSTED": "member",
        "amount_cents": "field",
        "batch_number": "parameter",
        "extra_rows": "parameter",
        "fx_ratio": "field",
        "invoice_id": "field",
        "ledger_row": "class",
        "ledger_row_t": "type",
        "ledger_rows": "parameter",
        "left_cents": "parameter",
        "memo_text": "field",
        "on_posted": "field",
        "payout_amount": "class",
        "posted_code": "parameter",
        "posting_count": "variable",
        "posting_ptr": "variable",
        "posting_state": "type",
        "reconcile_refunds": "function",
        "refund_hook": "type",
        "right_cents": "parameter",
        "row_count": "parameter",
        "row_index": "variable",
        "settle_refund_batch": "function",
        "tier_names": "variable",
        "totals_by_invoice": "variable",
        "whole_cents": "field",
    },
    stopped={
        "REVERSED": "codewords",
        "argc": "stdlib",
        "argv": "stdlib",
        "main": "stdlib",
    },
    used=words("stdio stdlib size_t printf NULL"),
)

CPP = Case(
    "cpp",
    "ledger/src/refund_reconciler.cpp",
    """\
#include <vector>
#define MAX_REFUND_CENTS 50000
#define LEDGER_MIN(a, b) ((a) < (b) ? (a) : (b))

namespace acmepay::refunds {

typedef struct ledger_row {
  int invoice_id; long *amount_cents; char label[16]; void (*on_posted)(int);
} ledger_row_t;
typedef int (*refund_cb)(int);
using InvoiceTotals = std::map<int, long>;
enum class CustomerTier { Gold, Platinum };
enum posting_state { POSTED, REVERSED };
union payout_value { long cents; double ratio; };

template <typename PayoutKind, int BatchLimit>
class RefundReconciler : public RefundPolicy {
 public:
  explicit RefundReconciler(LedgerGateway& ledger_gateway, int tolerance_cents = 5);
  ~RefundReconciler() override;
  bool allowsRefund(const Invoice& invoice) const override;
  int reconcileRefunds(const std::vector<LedgerRow>& ledger_rows, char **extra_rows);
  static constexpr int kDefaultCurrency = 978;
  int countSettled() const { return settled_count_; }
  const LedgerRow* begin() const { return nullptr; }
 private:
  LedgerGateway& gateway_;
  int settled_count_ = 0;
};

int RefundReconciler::reconcileRefunds(const std::vector<LedgerRow>& ledger_rows,
                                       char **extra_rows) {
  std::map<int, long> totals_by_invoice;
  for (const auto& ledger_row : ledger_rows) { totals_by_invoice[ledger_row.id] += 1; }
  auto [first_extra, second_extra] = std::make_pair(1, 2);
  auto net_cents = [&](long gross_cents) { return gross_cents - 1; };
  int *posting_ptr = nullptr, posting_count = 0;
  static const char *batch_names[] = {"a"};
  try { post(); } catch (const std::exception& posting_error) { report(posting_error); }
  return 0;
}

}  // namespace acmepay::refunds

static int settle_refund_batch(int batch_number, const char *batch_label) {
  int settled_batches = 0;
  return settled_batches;
}
""",
    expected={
        "BatchLimit": "parameter",
        "CustomerTier": "type",
        "Gold": "member",
        "InvoiceTotals": "type",
        "LEDGER_MIN": "function",
        "MAX_REFUND_CENTS": "constant",
        "POSTED": "member",
        "PayoutKind": "type",
        "Platinum": "member",
        "RefundReconciler": "class",
        "acmepay": "module",
        "amount_cents": "field",
        "batch_label": "parameter",
        "batch_names": "variable",
        "batch_number": "parameter",
        "cents": "field",
        "countSettled": "method",
        "extra_rows": "parameter",
        "first_extra": "variable",
        "gateway_": "field",
        "gross_cents": "parameter",
        "invoice": "parameter",
        "invoice_id": "field",
        "kDefaultCurrency": "field",
        "ledger_gateway": "parameter",
        "ledger_row": "class",
        "ledger_row_t": "type",
        "ledger_rows": "parameter",
        "net_cents": "variable",
        "on_posted": "field",
        "payout_value": "class",
        "posting_count": "variable",
        "posting_error": "parameter",
        "posting_ptr": "variable",
        "posting_state": "type",
        "reconcileRefunds": "method",
        "refund_cb": "type",
        "refunds": "module",
        "second_extra": "variable",
        "settle_refund_batch": "function",
        "settled_batches": "variable",
        "settled_count_": "field",
        "tolerance_cents": "parameter",
        "totals_by_invoice": "variable",
    },
    stopped={
        "REVERSED": "codewords",
        "begin": "overrides",
        "label": "codewords",
        "ratio": "codewords",
    },
    used=words(
        "vector std map RefundPolicy LedgerGateway Invoice LedgerRow make_pair post report "
        "exception id"
    ),
    excluded=words("allowsRefund"),
)

CASES = [PYTHON, JAVASCRIPT, TYPESCRIPT, TSX, GO, JAVA, CSHARP, RUBY, RUST, PHP, KOTLIN, C, CPP]
