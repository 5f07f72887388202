module NimbusBilling
  class ProrationCalculator
    DAYS_IN_BILLING_CYCLE = 30

    def initialize(plan_price_cents)
      @plan_price_cents = plan_price_cents
    end

    def prorated_charge_cents(days_remaining)
      (@plan_price_cents * days_remaining) / DAYS_IN_BILLING_CYCLE
    end
  end
end
