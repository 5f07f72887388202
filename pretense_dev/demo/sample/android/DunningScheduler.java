package com.nimbus.billing.dunning;

import java.time.Duration;
import java.util.List;

public class DunningScheduler {
    private static final int MAX_DUNNING_ATTEMPTS = 4;
    private final List<Duration> retryBackoffSchedule;

    public DunningScheduler(List<Duration> retryBackoffSchedule) {
        this.retryBackoffSchedule = retryBackoffSchedule;
    }

    public Duration nextDunningDelay(int failedAttemptCount) {
        if (failedAttemptCount >= MAX_DUNNING_ATTEMPTS) {
            return Duration.ZERO;
        }
        return retryBackoffSchedule.get(failedAttemptCount);
    }

    @Override
    public String toString() {
        return "DunningScheduler" + retryBackoffSchedule;
    }
}
