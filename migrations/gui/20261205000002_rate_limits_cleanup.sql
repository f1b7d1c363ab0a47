-- The rate-limit counters are cleaned on a schedule by window: the cleanup reads this.
CREATE INDEX rate_limits_window ON rate_limits (window_start);
