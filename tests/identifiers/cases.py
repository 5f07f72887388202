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

CASES = [PYTHON, JAVASCRIPT, TYPESCRIPT, TSX, GO, JAVA, CSHARP, RUBY, RUST]
